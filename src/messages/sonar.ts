import type { Describer } from "./message.js";
import { nameAndPhone, personName, tagDelta } from "./words.js";

/** The one-line title of each Sonar event type (docs/sources/sonar.md). */
export const sonarDescribers: Record<string, Describer> = {
  new_assigned_message: (event) => ({
    title: `SMS from ${nameAndPhone(event.customer)}${event.assignee ? ` to ${personName(event.assignee)}` : ""}`,
  }),
  new_unassigned_message: (event) => ({ title: `SMS from ${nameAndPhone(event.customer)}, not assigned yet` }),
  outbound_message: (event) => ({
    title: `SMS to ${nameAndPhone(event.customer)}${event.author ? ` from ${personName(event.author)}` : ""}`,
  }),
  customer_subscribed: (event) => ({ title: `Customer ${nameAndPhone(event.customer)} subscribed` }),
  customer_unsubscribed: (event) => ({ title: `Customer ${nameAndPhone(event.customer)} unsubscribed` }),
  customer_double_opted_in: (event) => ({ title: `Customer ${nameAndPhone(event.customer)} confirmed their opt-in` }),
  customer_created: (event) => ({ title: `New customer ${nameAndPhone(event.customer)}` }),
  customer_state_changed: (event) => ({
    title: `Customer ${nameAndPhone(event.customer)}: ${event.state ? `now ${event.state}` : "state changed"}`,
  }),
  user_assignment: (event) => ({
    title: `Customer ${nameAndPhone(event.customer)} assigned to ${personName(event.assignee, "a team member")}`,
  }),
  tag_added_to_message: (event) => ({
    title: `Tags on a message from ${nameAndPhone(event.customer)}: ${tagDelta(event.tagsAdded) || "+?"}`,
  }),
  tag_removed_from_message: (event) => ({
    title: `Tags on a message from ${nameAndPhone(event.customer)}: ${tagDelta([], event.tagsRemoved) || "−?"}`,
  }),
};

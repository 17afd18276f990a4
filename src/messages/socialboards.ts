import type { RelayEvent } from "../events.js";
import type { Describer } from "./message.js";
import { onTicket, personWithRole, tagDelta, ticketRef } from "./words.js";

/** The one-line title of each Socialboards event type (docs/sources/socialboards.md). */
export const socialboardsDescribers: Record<string, Describer> = {
  ticket_creation: (event) => ({
    title: `New ticket ${ticketRef(event) ?? ""} from ${personWithRole(event.ticket?.author ?? event.customer, "someone")}`,
  }),
  ticket_status_change: (event) => ({
    title: `Ticket ${ticketRef(event) ?? "?"}: ${event.previousStatus ?? "?"} → ${event.status ?? "?"}`,
  }),
  ticket_tags_change: (event) => ({
    title: `Tags on ${ticketRef(event) ?? "a ticket"}: ${tagDelta(event.tagsAdded, event.tagsRemoved) || "unchanged"}`,
  }),
  ticket_category_change: (event) => ({
    title: `Category of ${ticketRef(event) ?? "a ticket"}: ${event.category ?? "none"}`,
    // Socialboards sends only the id of the category before, not its name.
    fields: event.previousCategory ? [{ label: "Previous category id", value: event.previousCategory }] : [],
  }),
  reply_creation: (event) => ({ title: `${personWithRole(event.author)} replied${onTicket(event)}` }),
  reply_update: (event) => ({ title: `${personWithRole(event.author)} edited a reply${onTicket(event)}` }),
  reply_deletion: (event) => ({ title: `Reply ${event.message?.id ?? ""} deleted${onTicket(event)}` }),
  note_creation: (event) => ({ title: `${personWithRole(event.author)} added a note${onTicket(event)}` }),
  note_update: (event) => ({ title: `${personWithRole(event.author)} edited a note${onTicket(event)}` }),
  note_deletion: (event) => ({ title: `Note ${event.message?.id ?? ""} deleted${onTicket(event)}` }),
  conversation_created: (event) => ({
    title: `New chat ${chatRef(event)} from ${personWithRole(event.customer, "someone")}`,
  }),
  conversation_message_added: (event) => ({
    title: `${personWithRole(event.author)} wrote in chat ${chatRef(event)}`,
  }),
  conversation_takeover_state_changed: (event) => ({
    title: `Chat ${chatRef(event)} handed to ${event.state === "bot" ? "the bot" : event.state === "agent" ? "an agent" : "?"}`,
  }),
  conversation_status_changed: (event) => ({ title: `Chat ${chatRef(event)} is now ${event.status ?? "?"}` }),
  conversation_closed: (event) => ({ title: `Chat ${chatRef(event)} closed` }),
};

function chatRef(event: RelayEvent): string {
  return `#${event.conversationId ?? event.ticketId ?? "?"}`;
}

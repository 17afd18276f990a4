import type { AdapterConfig } from "../../config/schema.js";
import { type EventMessage, type Person, type RelayEvent, safeEventType } from "../../events.js";
import { InvalidPayload, type Source } from "../source.js";
import { checkUrlToken } from "../url-token.js";
import { type SonarPayload, type SonarPerson, sonarPayload } from "./payloads.js";
import { sonarEventTypes } from "./register.js";

/** Messages from the customer; Sonar calls them "new" messages, assigned or not yet. */
const inboundMessages = new Set(["new_assigned_message", "new_unassigned_message"]);
const known = new Set<string>(sonarEventTypes);

/**
 * Sonar (SMS customer messaging) webhooks: one event per POST, named by `action`. Sonar signs
 * nothing we know of, so the endpoint's `?token=` is what authenticates a POST.
 */
export function createSonarSource(sourceId: string, config: AdapterConfig<"sonar">): Source {
  return {
    id: sourceId,
    type: "sonar",
    // Sonar documents no Content-Type either.
    jsonWhateverContentType: true,

    authenticate(request) {
      return checkUrlToken(config.urlToken, request.query);
    },

    validate(body) {
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new InvalidPayload("not a Sonar webhook: expected a JSON object with an action");
      }
      return { events: 1 };
    },

    normalize(payload, receipt) {
      const parsed = sonarPayload.parse(payload);
      const type = safeEventType(parsed.action);
      const event: RelayEvent = {
        id: `${receipt.id}.0`,
        source: receipt.source,
        sourceType: "sonar",
        type,
        // Known by the name as sent: one that had to be made safe is no name Sonar documents.
        known: known.has(parsed.action ?? ""),
        receivedAt: receipt.receivedAt,
        raw: payload,
      };
      applySonar(event, parsed);
      return [event];
    },
  };
}

function applySonar(event: RelayEvent, payload: SonarPayload): void {
  const customer = person(payload.customer, "customer");
  const user = person(payload.user, "agent");
  if (customer) event.customer = customer;
  if (payload.link) event.link = payload.link;
  if (payload.created_at) event.occurredAt = payload.created_at;

  const inbound = inboundMessages.has(event.type);
  if (payload.text !== undefined || payload.message_id !== undefined) {
    const message: EventMessage = { kind: "sms" };
    if (payload.message_id) message.id = payload.message_id;
    if (payload.text) message.text = payload.text;
    if (inbound || event.type === "outbound_message") message.direction = inbound ? "inbound" : "outbound";
    event.message = message;
  }
  // The `user` is who sent an outbound message; on anything else, the team member assigned.
  if (event.type === "outbound_message") {
    if (user) event.author = user;
  } else {
    if (user) event.assignee = user;
    if (inbound && customer) event.author = customer;
  }

  const tags = [...(payload.tag ? [payload.tag] : []), ...(payload.tags ?? [])];
  if (event.type === "tag_added_to_message") event.tagsAdded = tags;
  else if (event.type === "tag_removed_from_message") event.tagsRemoved = tags;
  else if (tags.length > 0) event.tags = tags;

  const state = payload.state ?? payload.customer_state;
  if (state) event.state = state;
}

function person(sonar: SonarPerson | undefined, role: Person["role"]): Person | undefined {
  if (!sonar) return undefined;
  const name = sonar.name ?? ([sonar.first_name, sonar.last_name].filter(Boolean).join(" ") || undefined);
  const found: Person = {};
  if (sonar.id) found.id = sonar.id;
  if (name) found.name = name;
  if (sonar.email) found.email = sonar.email;
  if (sonar.phone_number) found.phone = sonar.phone_number;
  return Object.keys(found).length > 0 ? { role, ...found } : undefined;
}

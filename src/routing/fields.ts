import type { RelayEvent } from "../events.js";
import { readPath } from "../json-path.js";

/** What a match condition is compared with: one value, a list (tags), or nothing. */
export type FieldValue = string | number | boolean | readonly string[] | undefined;

/**
 * The normalized fields a route's `match` can name, and where each is read from the event.
 * The config schema checks `match` keys against this list (or a `payload.` path), so a typo
 * is a config error instead of a route that silently never matches.
 */
export const matchFields = {
  source: (event) => event.source,
  sourceType: (event) => event.sourceType,
  event: (event) => event.type,
  known: (event) => event.known,
  community: (event) => event.community,
  ticketId: (event) => event.ticketId,
  status: (event) => event.status ?? event.ticket?.status,
  previousStatus: (event) => event.previousStatus,
  category: (event) => event.category ?? event.ticket?.category,
  previousCategory: (event) => event.previousCategory,
  sentiment: (event) => event.ticket?.sentiment,
  channel: (event) => event.ticket?.channel,
  tags: (event) => event.tags,
  tagsAdded: (event) => event.tagsAdded,
  tagsRemoved: (event) => event.tagsRemoved,
  /** `customer`, `agent` or `bot` (events.ts, Person): a customer's reply, not the team's own. */
  "author.role": (event) => event.author?.role,
  "author.name": (event) => event.author?.name,
  "author.email": (event) => event.author?.email,
  "customer.name": (event) => event.customer?.name,
  "customer.email": (event) => event.customer?.email,
  "customer.phone": (event) => event.customer?.phone,
  "assignee.name": (event) => event.assignee?.name,
  "assignee.email": (event) => event.assignee?.email,
  "message.kind": (event) => event.message?.kind,
  "message.text": (event) => event.message?.text,
  "message.direction": (event) => event.message?.direction,
  conversationId: (event) => event.conversationId,
  state: (event) => event.state,
} satisfies Record<string, (event: RelayEvent) => FieldValue>;

export type MatchField = keyof typeof matchFields;
export const matchFieldNames = Object.keys(matchFields) as MatchField[];

/** `payload.Ticket.Properties.IsSpam`: a path into the platform's own JSON for the event. */
export const payloadPathPattern = /^payload(\.[^.\s]+)+$/;

export function isMatchKey(key: string): boolean {
  return Object.hasOwn(matchFields, key) || payloadPathPattern.test(key);
}

/** Compiles a match key once into a reader of the event. */
export function fieldReader(key: string): (event: RelayEvent) => FieldValue {
  if (Object.hasOwn(matchFields, key)) return matchFields[key as MatchField];
  const path = key.split(".").slice(1);
  return (event) => toFieldValue(readPath(event.raw, path));
}

function toFieldValue(value: unknown): FieldValue {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) {
    return value.filter((item) => item !== null && typeof item !== "object").map((item) => String(item));
  }
  // An object has no single value to compare; `exists` still sees it.
  return JSON.stringify(value);
}

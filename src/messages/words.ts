import type { Person, RelayEvent } from "../events.js";

/** Small pieces of wording every describer shares, so all messages read alike. */

/** `#4478963 "Cat is ill"`, or `#4478963` when the event has no title; undefined without an id. */
export function ticketRef(event: RelayEvent): string | undefined {
  if (!event.ticketId) return undefined;
  const title = event.ticket?.title;
  return title ? `#${event.ticketId} "${oneLine(title)}"` : `#${event.ticketId}`;
}

/** ` on #4478963 "Cat is ill"`, or nothing. */
export function onTicket(event: RelayEvent): string {
  const ref = ticketRef(event);
  return ref ? ` on ${ref}` : "";
}

/** A person as an agent would name them: name, else phone, else email, else "someone". */
export function personName(person: Person | undefined, fallback = "someone"): string {
  return oneLine(person?.name ?? person?.phone ?? person?.email ?? fallback);
}

/** `Customer`, `Agent`, `Bot`: the role as the platform means it, undefined when it does not say. */
export function roleLabel(person: Person | undefined): string | undefined {
  return person?.role ? person.role.charAt(0).toUpperCase() + person.role.slice(1) : undefined;
}

/**
 * `Customer Robert Baker`, `Agent Anna Larsen`: a name with its role, so a reader knows at a
 * glance which side of the conversation spoke; the bare name when the payload gives no role.
 */
export function personWithRole(person: Person | undefined, fallback = "Someone"): string {
  const role = roleLabel(person);
  return role ? `${role} ${personName(person, "unknown")}` : personName(person, fallback);
}

/** `Robert Baker (+15555550123)`: the name and the number, for SMS customers. */
export function nameAndPhone(person: Person | undefined): string {
  if (person?.name && person.phone) return `${oneLine(person.name)} (${person.phone})`;
  return personName(person, "a customer");
}

/** `ticket_status_change` → `Ticket status change`. */
export function humanize(type: string): string {
  const words = type.replace(/[_.-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** `+urgent −billing`: what a tag change did, in one glance. */
export function tagDelta(added: readonly string[] = [], removed: readonly string[] = []): string {
  return [...added.map((tag) => `+${tag}`), ...removed.map((tag) => `−${tag}`)].join(" ");
}

import { createHash } from "node:crypto";
import { conversationOf, type RelayEvent } from "../events.js";

/** The headers that put one email in its conversation's thread. */
export interface EmailThreadHeaders {
  messageId: string;
  inReplyTo?: string;
  references?: string;
}

/** Event types that open a conversation: their email is the thread's first message. */
const openingEventTypes = new Set(["ticket_creation", "conversation_created"]);

/**
 * Message-ID, In-Reply-To and References for one delivery, derived from ids alone (no state),
 * so every worker computes the same headers. A conversation's root id is a hash of its key:
 * the email of the event that opens it carries that id, and every other email about it points
 * at it, so mail clients thread them even when the first email was never sent (a route that
 * only takes status changes). Every email has its own id from the delivery id, which is stable
 * across retries: a retried send that did arrive twice is one message to the client.
 */
export function emailThreadHeaders(event: RelayEvent, deliveryId: string): EmailThreadHeaders {
  const own = `<delivery-${hash(deliveryId)}@ticket-relay>`;
  const conversation = conversationOf(event);
  if (!conversation) return { messageId: own };
  const root = `<${conversation.kind}-${hash(conversation.key)}@ticket-relay>`;
  if (openingEventTypes.has(event.type)) return { messageId: root };
  return { messageId: own, inReplyTo: root, references: root };
}

/** Hashed, so a Message-ID carries no payload text and only characters a header allows. */
function hash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

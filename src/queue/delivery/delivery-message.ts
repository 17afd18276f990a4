import { describeEvent } from "../../messages/describe.js";
import { digestMessage } from "../../messages/digest.js";
import type { Message } from "../../messages/message.js";
import type { MessageTemplates, TemplateFailure } from "../../messages/templates.js";
import type { DeliveryJob } from "../jobs.js";

/**
 * The message one delivery sends: the event's message, and on a fallback delivery a first
 * line that says why it came here, then the template of the delivery's route or target, if
 * any. Shared by the pipeline and `dlq show`, so what `show` prints is what a replay sends.
 * `warn` hears of a template that failed (the message is then the default one).
 */
export function deliveryMessage(
  { event, targetId, route, fallbackFor, digest }: DeliveryJob,
  templates: MessageTemplates,
  warn?: (failure: TemplateFailure) => void,
): Message {
  // A digest lists its events in its own layout (messages/digest.ts); templates shape single events.
  if (digest?.step === "send") {
    const notice = fallbackFor && `${fallbackFor.targetId} could not deliver it: ${fallbackFor.reason}`;
    return digestMessage(digest.listing, event, deliveryFooter(route), notice || undefined);
  }
  const message: Message = { ...describeEvent(event), footer: deliveryFooter(route) };
  if (!fallbackFor) return templates.apply(message, { targetId, route }, warn);
  const why = {
    label: "Sent here because",
    value: `${fallbackFor.targetId} could not deliver it: ${fallbackFor.reason}`,
  };
  const notice = `${why.label} ${why.value}`;
  return templates.apply({ ...message, fields: [why, ...message.fields] }, { targetId, route, notice }, warn);
}

/** Names the relay and the route, so a reader knows which rule sent this and where to change it. */
export function deliveryFooter(route: string): string {
  return `via ticket-relay · route ${route}`;
}

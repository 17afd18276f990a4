import { describeEvent } from "../messages/describe.js";
import type { Message } from "../messages/message.js";
import type { DeliveryJob } from "./jobs.js";

/**
 * The message one delivery sends: the event's message, and on a fallback delivery a first
 * line that says why it came here. Shared by the pipeline and `dlq show`, so what `show`
 * prints is what a replay sends.
 */
export function deliveryMessage({ event, fallbackFor }: DeliveryJob): Message {
  const message = describeEvent(event);
  if (!fallbackFor) return message;
  const why = {
    label: "Sent here because",
    value: `${fallbackFor.targetId} could not deliver it: ${fallbackFor.reason}`,
  };
  return { ...message, fields: [why, ...message.fields] };
}

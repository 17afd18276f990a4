import {
  type DeliveryState,
  type DeliveryStep,
  type Outcome,
  type Step,
  stateAfter,
  type WebhookRecord,
} from "./records.js";

/** One delivery's way, read from its webhook's steps. */
export interface DeliveryStory {
  id: string;
  target: string;
  route: string;
  /** The index of its event in the webhook's `events`; -1 for a fallback routing did not queue. */
  event: number;
  state: DeliveryState;
  steps: (DeliveryStep & { at: number })[];
}

/** One webhook's whole story: what arrived, what each route made of it, where each delivery went. */
export interface WebhookStory {
  webhook: WebhookRecord;
  /** How often the same webhook came again and was answered `{"duplicate": true}`. */
  duplicates: number;
  /** True when no route took any of its events. */
  noRoute: boolean;
  deliveries: DeliveryStory[];
}

/**
 * Reads a webhook's record list (history/records.ts) into its story: its first element is the
 * webhook, each further one a step. Undefined when there is no record (never routed, trimmed,
 * forgotten). Elements that cannot be read are skipped rather than failing the whole story.
 */
export function storyOf(elements: readonly string[]): WebhookStory | undefined {
  const [first, ...rest] = elements;
  const webhook = first === undefined ? undefined : parse<WebhookRecord>(first);
  if (!webhook?.id) return undefined;
  const deliveries = new Map<string, DeliveryStory>();
  for (const delivery of webhook.deliveries) {
    // Queued parked behind an earlier delivery of its ticket: held by the ticket's order.
    deliveries.set(delivery.id, { ...delivery, state: delivery.behind ? "held" : "queued", steps: [] });
  }
  let duplicates = 0;
  for (const element of rest) {
    const step = parse<Step>(element);
    if (!step) continue;
    if (step.kind === "duplicate") {
      duplicates += 1;
      continue;
    }
    const { d, target, route, ...rest } = step;
    let story = deliveries.get(d);
    if (!story) {
      story = { id: d, target, route: route ?? "", event: eventIndexOf(webhook, d), state: "queued", steps: [] };
      deliveries.set(d, story);
    }
    story.steps.push(rest);
    story.state = stateAfter(rest);
  }
  return { webhook, duplicates, noRoute: webhook.deliveries.length === 0, deliveries: [...deliveries.values()] };
}

/** Whether a story has this outcome now: the filter `events --outcome` applies. */
export function hasOutcome(story: WebhookStory, outcome: Outcome): boolean {
  switch (outcome) {
    case "no-route":
      return story.noRoute;
    case "duplicate":
      return story.duplicates > 0;
    case "failed":
      return story.deliveries.some((delivery) => delivery.steps.some((step) => step.kind === "failed"));
    default:
      return story.deliveries.some((delivery) => delivery.state === outcome);
  }
}

/** A delivery id is `<event id>.<target>`, and an event id `<receipt id>.<index>`. */
function eventIndexOf(webhook: WebhookRecord, deliveryId: string): number {
  return webhook.events.findIndex((event) => deliveryId.startsWith(`${event.id}.`));
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

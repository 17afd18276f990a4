import type { Config, RouteConfig } from "../../config/schema.js";
import type { RelayEvent } from "../../events.js";
import { compileRoutes, firstUnmetCondition } from "../../routing/router.js";
import { createSources } from "../../sources/registry.js";
import { oneLine } from "../output.js";

/**
 * What `try` expects before it posts: the sample normalized by the source's own adapter and
 * matched with the routes of the config, as the relay's routing worker will do it.
 */

/** The receipt id the sample is normalized under before the relay gives it a real one. */
const throwawayReceipt = "try";

/** One event of the sample, and where the config sends it. */
export interface PlannedEvent {
  /** `.0`: what follows the receipt id in the event's id. */
  idSuffix: string;
  type: string;
  summary: string;
  routes: { route: string; targets: string[] }[];
  /** When no route matches: why the first route does not. */
  noRoute?: string;
}

/** Normalizes the sample as the relay will, and matches each event with the routes of this config. */
export function plan(config: Config, sourceId: string, body: unknown): PlannedEvent[] {
  const source = createSources(config).get(sourceId);
  if (!source) return [];
  const receipt = { id: throwawayReceipt, source: sourceId, receivedAt: new Date().toISOString() };
  const router = compileRoutes(config.routes, config.timeIntervals);
  return source.normalize(body, receipt).map((event) => {
    const routes: PlannedEvent["routes"] = [];
    for (const { route, targetId } of router.match(event)) {
      const last = routes.at(-1);
      if (last?.route === route) last.targets.push(targetId);
      else routes.push({ route, targets: [targetId] });
    }
    return {
      idSuffix: event.id.slice(throwawayReceipt.length),
      type: event.type,
      summary: eventSummary(event),
      routes,
      ...(routes.length === 0 && { noRoute: whyNoRoute(config.routes, event) }),
    };
  });
}

export function describePlan(event: PlannedEvent, numbered: boolean, say: (line: string) => void): void {
  const label = numbered ? `event${event.idSuffix}`.padEnd(10) : "event     ";
  say(`${label}${event.type}: ${event.summary}`);
  if (event.noRoute) say(`route     no route matches this event: ${event.noRoute}`);
  for (const { route, targets } of event.routes) say(`route     ${route} → ${targets.join(", ")}`);
}

/** A line a person recognises the sample by: the ticket, its title, the change. */
export function eventSummary(event: RelayEvent): string {
  const parts: string[] = [];
  const subject = event.ticketId
    ? `ticket ${event.ticketId}`
    : event.conversationId
      ? `conversation ${event.conversationId}`
      : undefined;
  if (subject) parts.push(event.ticket?.title ? `${subject} "${event.ticket.title}"` : subject);
  if (event.previousStatus && event.status) parts.push(`${event.previousStatus} → ${event.status}`);
  else if (event.status) parts.push(`status ${event.status}`);
  if (event.tagsAdded?.length) parts.push(`tags added: ${event.tagsAdded.join(", ")}`);
  if (event.tagsRemoved?.length) parts.push(`tags removed: ${event.tagsRemoved.join(", ")}`);
  if (event.state) parts.push(`state ${event.state}`);
  if (event.message?.text) parts.push(`${event.message.kind} "${oneLine(event.message.text, 100)}"`);
  else if (event.message?.id) parts.push(`${event.message.kind} ${event.message.id}`);
  const customer = event.customer?.name ?? event.customer?.phone;
  if (customer) parts.push(`customer ${customer}`);
  return parts.join(", ") || "(no ticket fields)";
}

/** Why the first route does not take the event, in words. */
function whyNoRoute(routes: readonly RouteConfig[], event: RelayEvent): string {
  const [first] = routes;
  if (!first) return "the config has no routes";
  const name = first.name ? `"${first.name}"` : "routes[0]";
  const unmet = firstUnmetCondition(first, event);
  if (!unmet) return `the first route, ${name}, does not take it`;
  const now =
    unmet.value === undefined ? `this one has no ${unmet.key}` : `this one's ${unmet.key} is ${shown(unmet.value)}`;
  return `the first route, ${name}, needs ${unmet.key}: ${shown(unmet.condition)}, and ${now}`;
}

function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

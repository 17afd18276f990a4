import type { RouteConfig } from "../config/schema.js";
import type { TimeIntervalsConfig } from "../config/time-intervals-schema.js";
import type { RelayEvent } from "../events.js";
import { compileCondition } from "./conditions.js";
import { type FieldValue, fieldReader } from "./fields.js";
import { compileRouteTime, compileTimeIntervals, type IntervalsAt, receivedAtOf } from "./time-intervals.js";

/** One event for one target: what becomes one delivery job. */
export interface RoutedDelivery {
  targetId: string;
  /** The route that sent it there, for logs and for the receiver's context. */
  route: string;
}

export interface Router {
  /** The targets an event goes to, each once, in the order the routes name them. */
  match(event: RelayEvent): RoutedDelivery[];
}

type EventPredicate = (event: RelayEvent) => boolean;

interface CompiledRoute {
  name: string;
  matches: EventPredicate;
  /** `activeDuring` / `mutedDuring`, when the route has them. */
  inTime?: (holds: IntervalsAt) => boolean;
  to: string[];
  continue: boolean;
}

/**
 * Compiles the route list once per config load; `match` then does no parsing or allocation
 * beyond its result. Routes are tried in order and the first match wins, unless it says
 * `continue: true` (the Alertmanager convention). A route outside its time (`activeDuring`,
 * `mutedDuring`, at the event's `receivedAt`) is passed over as if its match failed.
 */
export function compileRoutes(routes: readonly RouteConfig[], timeIntervals: TimeIntervalsConfig = {}): Router {
  const intervals = compileTimeIntervals(timeIntervals);
  const compiled: CompiledRoute[] = routes.map((route, index) => ({
    name: route.name ?? `routes[${index}]`,
    matches: compileMatch(route.match),
    inTime: compileRouteTime(route),
    to: route.to,
    continue: route.continue,
  }));

  return {
    match(event) {
      const deliveries: RoutedDelivery[] = [];
      const seen = new Set<string>();
      let holds: IntervalsAt | undefined;
      for (const route of compiled) {
        if (!route.matches(event)) continue;
        if (route.inTime) {
          holds ??= intervals.at(receivedAtOf(event));
          if (!route.inTime(holds)) continue;
        }
        for (const targetId of route.to) {
          // One job per (event, target): two routes naming one target must not send twice.
          if (seen.has(targetId)) continue;
          seen.add(targetId);
          deliveries.push({ targetId, route: route.name });
        }
        if (!route.continue) break;
      }
      return deliveries;
    },
  };
}

/** Fields whose plain values may be globs: `event: "reply_*"`. */
export const globFields: ReadonlySet<string> = new Set(["event", "source", "sourceType"]);

/** The first condition of a route's `match` that an event fails, with what the event has there. */
export interface UnmetCondition {
  key: string;
  condition: RouteConfig["match"][string];
  value: FieldValue;
}

/**
 * Why one route does not take an event: for `ticket-relay try` to say, once, off the hot path
 * (it compiles the route again). Undefined when the route matches.
 */
export function firstUnmetCondition(route: RouteConfig, event: RelayEvent): UnmetCondition | undefined {
  for (const [key, condition] of Object.entries(route.match)) {
    const value = fieldReader(key)(event);
    if (!compileCondition(condition, globFields.has(key))(value)) return { key, condition, value };
  }
  return undefined;
}

function compileMatch(match: RouteConfig["match"]): EventPredicate {
  const predicates = Object.entries(match).map(([key, condition]) => {
    const read = fieldReader(key);
    const test = compileCondition(condition, globFields.has(key));
    return (event: RelayEvent) => test(read(event));
  });
  return (event) => predicates.every((matches) => matches(event));
}

import type { RouteConfig } from "../config/schema.js";
import type { TimeIntervalsConfig } from "../config/time-intervals-schema.js";
import type { RelayEvent } from "../events.js";
import { compileCondition, type ValueTest } from "./conditions.js";
import { type FieldValue, fieldReader } from "./fields.js";
import {
  compileRouteTime,
  compileTimeIntervals,
  type IntervalsAt,
  type OutsideTime,
  receivedAtOf,
  routeOutsideTime,
} from "./time-intervals.js";

/** One event for one target: what becomes one delivery job. */
export interface RoutedDelivery {
  targetId: string;
  /** The route that sent it there, for logs and for the receiver's context. */
  route: string;
}

export interface Router {
  /** The targets an event goes to, each once, in the order the routes name them. The hot path. */
  match(event: RelayEvent): RoutedDelivery[];
  /**
   * What each route made of the event, in the routes' order: the why behind `match`, for
   * `route --event`, `test` and the log line of an event no route took. Off the hot path: it
   * walks every route and builds a value for each.
   */
  decide(event: RelayEvent): RouteDecision[];
}

/** What one route made of one event. */
export type RouteDecision =
  /** Its match and its time hold: the event goes to `targets` (each target once across routes). */
  | { kind: "matched"; route: string; targets: readonly string[]; continue: boolean }
  /** Its match does not hold: the first condition the event fails. */
  | { kind: "unmet"; route: string; unmet: UnmetCondition }
  /** Its match holds, but its time does not (`activeDuring`, `mutedDuring`) at the event's receipt. */
  | ({ route: string } & OutsideTime)
  /** An earlier route, `takenBy`, took the event and did not say continue. */
  | { kind: "notTried"; route: string; takenBy: string };

type EventPredicate = (event: RelayEvent) => boolean;

/** One condition of a route's `match`, compiled once. */
interface CompiledCondition {
  key: string;
  condition: RouteConfig["match"][string];
  read: (event: RelayEvent) => FieldValue;
  test: ValueTest;
}

interface CompiledRoute {
  name: string;
  matches: EventPredicate;
  /** `activeDuring` / `mutedDuring`, when the route has them. */
  inTime?: (holds: IntervalsAt) => boolean;
  to: string[];
  continue: boolean;
}

/** A compiled route with what `decide` reads besides, kept apart so that `match` walks the same lean objects as before. */
interface ExplainedRoute {
  compiled: CompiledRoute;
  /** Its `match` one condition at a time, to name the first one unmet. */
  conditions: CompiledCondition[];
  config: RouteConfig;
}

/**
 * Compiles the route list once per config load; `match` then does no parsing or allocation
 * beyond its result. Routes are tried in order and the first match wins, unless it says
 * `continue: true` (the Alertmanager convention). A route outside its time (`activeDuring`,
 * `mutedDuring`, at the event's `receivedAt`) is passed over as if its match failed.
 */
export function compileRoutes(routes: readonly RouteConfig[], timeIntervals: TimeIntervalsConfig = {}): Router {
  const intervals = compileTimeIntervals(timeIntervals);
  const explained: ExplainedRoute[] = routes.map((route, index) => {
    const conditions = compileConditions(route.match);
    const compiled: CompiledRoute = {
      name: route.name ?? `routes[${index}]`,
      matches: compileMatch(conditions),
      inTime: compileRouteTime(route),
      to: route.to,
      continue: route.continue,
    };
    return { compiled, conditions, config: route };
  });
  const compiled = explained.map((route) => route.compiled);

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

    decide(event) {
      let holds: IntervalsAt | undefined;
      let takenBy: string | undefined;
      return explained.map(
        ({ compiled: { name, inTime, to, continue: goesOn }, conditions, config }): RouteDecision => {
          if (takenBy !== undefined) return { kind: "notTried", route: name, takenBy };
          const unmet = firstUnmet(conditions, event);
          if (unmet) return { kind: "unmet", route: name, unmet };
          if (inTime) {
            holds ??= intervals.at(receivedAtOf(event));
            const outside = routeOutsideTime(config, holds);
            if (outside) return { route: name, ...outside };
          }
          if (!goesOn) takenBy = name;
          return { kind: "matched", route: name, targets: to, continue: goesOn };
        },
      );
    },
  };
}

/**
 * The deliveries an event's decisions make: what `match` returns, read from `decide`'s answer,
 * for a caller that wants both (the history records each route's reason).
 */
export function deliveriesOf(decisions: readonly RouteDecision[]): RoutedDelivery[] {
  const deliveries: RoutedDelivery[] = [];
  const seen = new Set<string>();
  for (const decision of decisions) {
    if (decision.kind !== "matched") continue;
    for (const targetId of decision.targets) {
      if (seen.has(targetId)) continue;
      seen.add(targetId);
      deliveries.push({ targetId, route: decision.route });
    }
  }
  return deliveries;
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
 * (it compiles the route again; compiled routes answer with `Router.decide`). Undefined when the route matches.
 */
export function firstUnmetCondition(route: RouteConfig, event: RelayEvent): UnmetCondition | undefined {
  for (const [key, condition] of Object.entries(route.match)) {
    const value = fieldReader(key)(event);
    if (!compileCondition(condition, globFields.has(key))(value)) return { key, condition, value };
  }
  return undefined;
}

function compileConditions(match: RouteConfig["match"]): CompiledCondition[] {
  return Object.entries(match).map(([key, condition]) => ({
    key,
    condition,
    read: fieldReader(key),
    test: compileCondition(condition, globFields.has(key)),
  }));
}

function compileMatch(conditions: readonly CompiledCondition[]): EventPredicate {
  const predicates = conditions.map(
    ({ read, test }) =>
      (event: RelayEvent) =>
        test(read(event)),
  );
  return (event) => predicates.every((matches) => matches(event));
}

function firstUnmet(conditions: readonly CompiledCondition[], event: RelayEvent): UnmetCondition | undefined {
  for (const { key, condition, read, test } of conditions) {
    const value = read(event);
    if (!test(value)) return { key, condition, value };
  }
  return undefined;
}

import { isDeepStrictEqual } from "node:util";
import { LineCounter, parseDocument } from "yaml";
import { globToRegExp, type MatchCondition } from "../routing/conditions.js";
import { describeCondition } from "../routing/explain.js";
import { globFields } from "../routing/router.js";
import { type ConfigProblem, closestName, formatKey } from "./errors.js";
import { lineOf } from "./load.js";
import type { Config, RouteConfig } from "./schema.js";

/**
 * What `check` warns about in a valid config: setups that run, but not as their author
 * meant. Warnings, not errors, because each can be on purpose (a target kept for later, an
 * open endpoint on a closed network); `check --strict` fails on them.
 *
 * `eventTypes` says which event types each kind of source emits (`undefined`: any), given by
 * the caller so that config/ need not know the sources.
 */
export function lintConfig(
  config: Config,
  text: string,
  file: string,
  eventTypes: Readonly<Record<string, readonly string[] | undefined>>,
): ConfigProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const at = (offset: number) => lineCounter.linePos(offset);
  return [
    ...nothingToDeliverTo(config),
    ...shadowedRoutes(config.routes),
    ...unusedTargets(config),
    ...unusedTimeIntervals(config),
    ...eventTypesNoSourceEmits(config, eventTypes),
    ...openSources(config),
  ]
    .map(({ path, message }) => ({
      file,
      key: formatKey(path),
      message,
      // A top-level key that is absent has no line of its own; the file's first line would mislead.
      ...(path.length === 1 && !doc.has(path[0]) ? {} : lineOf(doc, path, at)),
    }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

interface Lint {
  path: PropertyKey[];
  message: string;
}

/**
 * No routes, or no targets: every webhook is answered 200 and then matches no route, so nothing
 * is delivered. A file cut short (`sources:` written, the rest not yet) looks exactly like this
 * and is valid, so only a warning can catch it before `serve` or a reload runs it.
 */
function nothingToDeliverTo(config: Config): Lint[] {
  const lints: Lint[] = [];
  if (Object.keys(config.targets).length === 0) {
    lints.push({
      path: ["targets"],
      message:
        "no targets, so nothing is delivered: every webhook is answered 200 and matches no route; add one (docs/targets/), or finish the file if it was cut short",
    });
  }
  if (config.routes.length === 0) {
    lints.push({
      path: ["routes"],
      message:
        "no routes, so nothing is delivered: every webhook is answered 200 and matches no route; add one (`- to: [<target>]`), or finish the file if it was cut short",
    });
  }
  return lints;
}

/**
 * A route that an earlier one without `continue` always takes first: every event it would
 * match meets each condition of the earlier route too. Said only when that is certain: the
 * earlier route has no time interval (outside it, it takes nothing), no key the later one
 * lacks, and asks of each the same thing, or any of plain values that include all of the
 * later one's.
 */
function shadowedRoutes(routes: readonly RouteConfig[]): Lint[] {
  const lints: Lint[] = [];
  routes.forEach((route, index) => {
    const catcher = routes.findIndex(
      (earlier, before) =>
        before < index && !earlier.continue && alwaysOn(earlier) && takesAllOf(earlier.match, route.match),
    );
    const earlier = routes[catcher];
    if (!earlier) return;
    const conditions = Object.entries(earlier.match);
    const why =
      conditions.length === 0
        ? "its empty match takes every event"
        : `it takes every event this one would (${conditions.map(([key, condition]) => `${key}: ${describeCondition(condition)}`).join("; ")})`;
    const name = route.name ? `route "${route.name}"` : "this route";
    const other = earlier.name ? `route "${earlier.name}" (routes[${catcher}])` : `routes[${catcher}]`;
    lints.push({
      path: ["routes", index],
      message: `${name} can never match: ${other} comes before it without continue, and ${why}`,
    });
  });
  return lints;
}

/** A route with `activeDuring` or `mutedDuring` is passed over at times: it shadows nothing. */
function alwaysOn(route: RouteConfig): boolean {
  return route.activeDuring === undefined && route.mutedDuring === undefined;
}

function takesAllOf(wide: RouteConfig["match"], narrow: RouteConfig["match"]): boolean {
  return Object.entries(wide).every(([key, condition]) => {
    const later = narrow[key];
    return later !== undefined && conditionTakesAllOf(key, condition, later);
  });
}

function conditionTakesAllOf(key: string, wide: MatchCondition, narrow: MatchCondition): boolean {
  if (isDeepStrictEqual(wide, narrow)) return true;
  const wideValues = plainValues(wide);
  const narrowValues = plainValues(narrow);
  if (!wideValues || !narrowValues) return false;
  const isGlob = (text: string) => globFields.has(key) && /[*?]/.test(text);
  return narrowValues.every((value) =>
    wideValues.some((pattern) =>
      // A glob on the later route is only known to be taken by the same glob.
      isGlob(pattern) && !isGlob(value) ? globToRegExp(pattern).test(value) : pattern === value,
    ),
  );
}

/** The values of a condition that is a value or a list of them ("any of these"), as text. */
function plainValues(condition: MatchCondition): string[] | undefined {
  if (Array.isArray(condition)) return condition.map(String);
  return typeof condition === "object" ? undefined : [String(condition)];
}

/** A target used by no route, nor as another target's fallback. */
function unusedTargets(config: Config): Lint[] {
  const used = new Set(config.routes.flatMap((route) => route.to));
  for (const target of Object.values(config.targets)) if (target.fallback) used.add(target.fallback);
  return Object.keys(config.targets)
    .filter((id) => !used.has(id))
    .map((id) => ({
      path: ["targets", id],
      message: `no route sends to target "${id}" (and no target falls back to it)`,
    }));
}

/** A time interval no route names in `activeDuring` or `mutedDuring`: it changes nothing. */
function unusedTimeIntervals(config: Config): Lint[] {
  const used = new Set(config.routes.flatMap((route) => [...(route.activeDuring ?? []), ...(route.mutedDuring ?? [])]));
  return Object.keys(config.timeIntervals)
    .filter((name) => !used.has(name))
    .map((name) => ({
      path: ["timeIntervals", name],
      message: `no route names time interval "${name}" in activeDuring or mutedDuring`,
    }));
}

/**
 * A `match.event` value that no configured source emits: a typo, or a route written for a
 * source that is not configured. Skipped when a generic source could emit any name.
 */
function eventTypesNoSourceEmits(
  config: Config,
  eventTypes: Readonly<Record<string, readonly string[] | undefined>>,
): Lint[] {
  const types = [...new Set(Object.values(config.sources).map((source) => source.type))];
  if (types.some((type) => eventTypes[type] === undefined)) return [];
  const emitted = types.flatMap((type) => eventTypes[type] ?? []);
  const lints: Lint[] = [];
  config.routes.forEach((route, index) => {
    const condition = route.match.event;
    if (condition === undefined) return;
    for (const { path, value, glob } of eventValues(condition, ["routes", index, "match", "event"])) {
      if (glob) {
        if (emitted.some((type) => globToRegExp(value).test(type))) continue;
        lints.push({
          path,
          message: `no event type that the configured sources (${types.join(", ")}) emit matches "${value}"`,
        });
        continue;
      }
      if (emitted.includes(value)) continue;
      const owner = Object.keys(eventTypes).find((type) => eventTypes[type]?.includes(value));
      const guess = closestName(value, emitted);
      const hint = owner
        ? ` (it is a ${owner} event, and there is no ${owner} source)`
        : guess
          ? ` — did you mean "${guess}"?`
          : " (docs/events.md lists the event types)";
      lints.push({ path, message: `no configured source emits event "${value}"${hint}` });
    }
  });
  return lints;
}

/** The event names a condition asks for, where each is in the file, and whether it is a glob. */
function eventValues(
  condition: MatchCondition,
  path: PropertyKey[],
): { path: PropertyKey[]; value: string; glob: boolean }[] {
  const plain = (value: unknown, at: PropertyKey[]) => ({
    path: at,
    value: String(value),
    glob: /[*?]/.test(String(value)),
  });
  if (Array.isArray(condition)) return condition.map((value, i) => plain(value, [...path, i]));
  if (typeof condition !== "object") return [plain(condition, path)];
  // `not` asks for what is not there, and regexes are not names: neither can be checked so.
  const values = (condition.in ?? []).map((value, i) => ({
    path: [...path, "in", i],
    value: String(value),
    glob: false,
  }));
  if (condition.glob !== undefined) values.push({ path: [...path, "glob"], value: condition.glob, glob: true });
  return values;
}

/** A Socialboards or Sonar source with `urlToken: none`: its endpoint takes anyone's POST. */
function openSources(config: Config): Lint[] {
  return Object.entries(config.sources)
    .filter(([, source]) => source.type !== "generic" && source.urlToken === undefined)
    .map(([id]) => ({
      path: ["sources", id, "urlToken"],
      message: `urlToken is none: anyone who knows the URL /webhooks/${id} can post events to it; set a secret, e.g. "\${${id.toUpperCase().replace(/-/g, "_")}_URL_TOKEN}"`,
    }));
}

import { Liquid, LiquidError, type Template, UndefinedVariableError, type Variable } from "liquidjs";
import type { Message, TemplateFailure } from "./message.js";
import { escapeMrkdwn } from "./slack.js";
import {
  completeVariables,
  type TemplateSample,
  type TemplateVariables,
  templateSamples,
  templateVariables,
} from "./template-samples.js";
import { oneLine } from "./words.js";

/**
 * Templates from the config (docs/configuration.md, "Templates"), in LiquidJS: a sandboxed
 * language, so a config file can shape a message but run no code and read no file.
 *
 * Strict variables and where they apply: at delivery, a field an event lacks renders empty
 * (most event types fill few fields, and `{% if event.status %}` must work), so deliveries
 * render leniently. A misspelt name is found by `check` instead, before anything runs: every
 * variable the template names, in every branch, must exist in a complete sample event, and the
 * template is rendered against a sample of every event type, strictly on a complete one (which
 * finds what the static pass cannot see, such as a loop variable's property) and leniently on a
 * bare one (as deliveries render). A template that still fails at delivery (a limit below) is
 * replaced by the default message, never a lost delivery.
 */

/** How a target's text reads values: Slack's mrkdwn treats &, < and > as markup (`<!channel>`). */
export type TemplateSyntax = "mrkdwn" | "plain";
const escapes: Record<TemplateSyntax, (text: string) => string> = { mrkdwn: escapeMrkdwn, plain: (text) => text };

const syntaxOfTarget: Record<string, TemplateSyntax> = { slack: "mrkdwn", email: "plain" };

/** Tags that read other templates from files: a template has nothing to read. */
const fileTags = ["include", "render", "layout"];

/**
 * Bounds on one render, so a template that loops over a large payload cannot stall a worker:
 * objects it creates (a `(1..n)` range, a `split`), and time. Over them, the delivery is sent
 * with the default message.
 */
const memoryLimit = 10_000_000;
const renderLimitMs = 1_000;

function createEngine(escapeText?: (text: string) => string): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    ownPropertyOnly: true,
    // An empty in-memory set of templates in place of the file system, and no tags that would
    // look in it: a template that names a file is a syntax error at check.
    templates: {},
    relativeReference: false,
    memoryLimit,
    renderLimit: renderLimitMs,
    ...(escapeText && { outputEscape: (value: unknown) => escapeText(textOf(value)) }),
  });
  for (const tag of fileTags) Reflect.deleteProperty(engine.tags, tag);
  // `raw` would let a value skip the target's escaping: a customer's `<!channel>` would ping.
  engine.unregisterFilter("raw");
  return engine;
}

/** A value as Liquid writes it: nothing for nil, arrays joined. */
function textOf(value: unknown): string {
  if (value === undefined || value === null) return "";
  return Array.isArray(value) ? value.map(textOf).join("") : String(value);
}

const engines: Record<TemplateSyntax, Liquid> = { mrkdwn: createEngine(escapeMrkdwn), plain: createEngine() };
/** Titles are plain text everywhere: a Slack header, an email subject. */
const titleEngine = engines.plain;

/** One thing wrong with a template, and, for a misspelt name, what it could have meant. */
export interface TemplateProblem {
  message: string;
  unknown?: { name: string; candidates: string[]; prefix: string };
}

/** The names checked against, and the events rendered: built on the first check, then kept. */
let known: TemplateVariables | undefined;
let samples: TemplateSample[] | undefined;

/** What is wrong with a template, or undefined: for the config schema to report at its key. */
export function templateProblem(text: string): TemplateProblem | undefined {
  let parsed: Template[];
  try {
    parsed = titleEngine.parse(text);
  } catch (error) {
    return syntaxProblem(error);
  }
  known ??= completeVariables();
  const unknown = unknownVariable(parsed, known);
  if (unknown) return unknown;
  samples ??= templateSamples();
  for (const sample of samples) {
    try {
      titleEngine.renderSync(parsed, sample.variables, { strictVariables: sample.strict });
    } catch (error) {
      if (error instanceof UndefinedVariableError) {
        const name = /undefined variable: (\S+?),? /.exec(error.message)?.[1] ?? "?";
        // The static pass vouched for the template's own variables: `event.tags[3]` is missing
        // from a sample, not misspelt. A strict render checks loop and assigned variables.
        if (Object.hasOwn(known, name.split(/[.[]/)[0] ?? "")) continue;
        return { message: `unknown variable ${name}${where(error)}` };
      }
      return { message: `fails on a sample ${sample.type} event: ${reasonOf(error)}` };
    }
  }
  return undefined;
}

function syntaxProblem(error: unknown): TemplateProblem {
  const message = reasonOf(error);
  const filter = /^undefined filter: (\S+) \(/.exec(message)?.[1];
  if (filter) {
    const rest = message.slice(`undefined filter: ${filter}`.length);
    const hint = filter === "raw" ? " — values are always escaped for the target" : "";
    return {
      message: `template syntax: unknown filter "${filter}"${rest}${hint}`,
      unknown: { name: filter, candidates: Object.keys(titleEngine.filters), prefix: "" },
    };
  }
  const tag = /^tag "(\S+)" not found/.exec(message)?.[1];
  const hint = tag && fileTags.includes(tag) ? " — a template cannot read files" : "";
  return { message: `template syntax: ${message}${hint}` };
}

/** The first variable the template names, in any branch, that no event or message has. */
function unknownVariable(parsed: Template[], known: TemplateVariables): TemplateProblem | undefined {
  for (const uses of Object.values(titleEngine.analyzeSync(parsed).globals)) {
    for (const use of uses) {
      const problem = unknownPath(use.toArray(), known);
      if (problem) {
        return {
          message: `unknown variable ${problem.name} (template line ${use.location.row}, column ${use.location.col})`,
          unknown: problem.unknown,
        };
      }
    }
  }
  return undefined;
}

/** Walks `segments` through the complete sample; the first step that leads nowhere, if any. */
function unknownPath(
  segments: ReturnType<Variable["toArray"]>,
  known: unknown,
): { name: string; unknown: TemplateProblem["unknown"] } | undefined {
  let value = known;
  let path = "";
  for (const segment of segments) {
    // `event[route]`: which key is known only at render time (the inner name is checked on its own).
    if (Array.isArray(segment)) return undefined;
    const prefix = path ? `${path}.` : "";
    if (Array.isArray(value) || typeof value === "string") {
      if (segment === "size") return undefined;
      if (Array.isArray(value) && (typeof segment === "number" || segment === "first" || segment === "last")) {
        value = value[0];
        path = typeof segment === "number" ? `${path}[${segment}]` : `${prefix}${segment}`;
        continue;
      }
    } else if (value !== null && typeof value === "object" && Object.hasOwn(value, segment)) {
      value = (value as Record<string | number, unknown>)[segment];
      path = `${prefix}${segment}`;
      continue;
    }
    const candidates = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
    return { name: `${prefix}${segment}`, unknown: { name: String(segment), candidates, prefix } };
  }
  return undefined;
}

/** A Liquid error's own words, with its place in the template said plainly. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const message = error.message.replace(/, line:\d+, col:\d+$/, "");
  return `${message}${error instanceof LiquidError ? where(error) : ""}`;
}

function where(error: LiquidError): string {
  const [line, column] = /, line:(\d+), col:(\d+)$/.exec(error.message)?.slice(1) ?? [];
  return line ? ` (template line ${line}, column ${column})` : "";
}

/** What `compileTemplates` reads from the config: each target's kind and template, each route's. */
export interface TemplateSettings {
  targets: Readonly<Record<string, { type: string; template?: { title?: string; subject?: string; text?: string } }>>;
  routes: readonly {
    name?: string;
    template?: { slack?: { title?: string; text?: string }; email?: { subject?: string; text?: string } };
  }[];
}

/** Which delivery a message is for: its target, its route, and a first line it must carry. */
export interface TemplateDelivery {
  targetId: string;
  route: string;
  /** Plain text put before a templated text (why a fallback delivery came here). */
  notice?: string;
}

export type { TemplateFailure } from "./message.js";

export interface MessageTemplates {
  /**
   * The message with the delivery's template applied, or unchanged when there is none. A
   * template that fails leaves the default message, marked with `templateFailure` each time
   * (for the fallback metric); `warn` hears of each template's first failure only (for the log).
   */
  apply(message: Message, delivery: TemplateDelivery, warn?: (failure: TemplateFailure) => void): Message;
}

/** For a relay without templates: every message stays the default. */
export const noTemplates: MessageTemplates = { apply: (message) => message };

interface CompiledText {
  /** The config key, for the warning: `targets.support-slack.template.text`. */
  key: string;
  template: Template[];
}
interface CompiledTemplate {
  title?: CompiledText;
  text?: CompiledText;
}

/**
 * Parses every template of a config once (the config is valid, so they parse). A route's
 * template overrides its targets' key by key, for the deliveries that route makes.
 */
export function compileTemplates(settings: TemplateSettings): MessageTemplates {
  const targets = new Map<string, { syntax: TemplateSyntax; kind: "slack" | "email"; template: CompiledTemplate }>();
  for (const [id, target] of Object.entries(settings.targets)) {
    const syntax = syntaxOfTarget[target.type];
    if (!syntax || (target.type !== "slack" && target.type !== "email")) continue;
    targets.set(id, {
      syntax,
      kind: target.type,
      template: compile(target.template, `targets.${id}.template`, syntax),
    });
  }
  const routes = new Map<string, Partial<Record<"slack" | "email", CompiledTemplate>>>();
  settings.routes.forEach((route, index) => {
    if (!route.template) return;
    // The name the router gives a route (routing/router.ts); check makes it unique.
    routes.set(route.name ?? `routes[${index}]`, {
      slack: compile(route.template.slack, `routes[${index}].template.slack`, "mrkdwn"),
      email: compile(route.template.email, `routes[${index}].template.email`, "plain"),
    });
  });
  const warned = new Set<string>();

  return {
    apply(message, delivery, warn) {
      const target = targets.get(delivery.targetId);
      if (!target) return message;
      const fromRoute = routes.get(delivery.route)?.[target.kind];
      const title = fromRoute?.title ?? target.template.title;
      const text = fromRoute?.text ?? target.template.text;
      if (!title && !text) return message;
      const variables = templateVariables(message, delivery.route);
      let part: CompiledText | undefined;
      try {
        const templated: NonNullable<Message["templated"]> = {};
        part = title;
        const renderedTitle = title && oneLine(titleEngine.renderSync(title.template, variables));
        // A template that renders to nothing leaves that part of the default message.
        if (renderedTitle) templated.title = renderedTitle;
        part = text;
        const renderedText = text && engines[target.syntax].renderSync(text.template, variables).trim();
        if (renderedText) {
          const notice = delivery.notice ? `${escapes[target.syntax](delivery.notice)}\n` : "";
          templated.text = `${notice}${renderedText}`;
        }
        return { ...message, templated };
      } catch (error) {
        const failure = { template: part?.key ?? "template", reason: reasonOf(error) };
        if (warn && !warned.has(failure.template)) {
          warned.add(failure.template);
          warn(failure);
        }
        return { ...message, templateFailure: failure };
      }
    },
  };
}

/** Escaping is part of a parsed template (Liquid adds it to each output), so text is parsed per syntax. */
function compile(
  template: { title?: string; subject?: string; text?: string } | undefined,
  key: string,
  syntax: TemplateSyntax,
): CompiledTemplate {
  const title = template?.title ?? template?.subject;
  const titleKey = template?.title !== undefined ? "title" : "subject";
  const text = template?.text;
  return {
    ...(title !== undefined && { title: { key: `${key}.${titleKey}`, template: titleEngine.parse(title) } }),
    ...(text !== undefined && { text: { key: `${key}.text`, template: engines[syntax].parse(text) } }),
  };
}

import type { Person, RelayEvent } from "../events.js";
import { describedEventTypes, describeEvent } from "./describe.js";
import type { Message } from "./message.js";
import { oneLine } from "./words.js";

/** What a template sees: the event without the platform's own JSON, the default message, the route. */
export interface TemplateVariables {
  event: Omit<RelayEvent, "raw">;
  message: Omit<Message, "event" | "templated">;
  route: string;
}

export function templateVariables(message: Message, route: string): TemplateVariables {
  // `raw` is whatever the platform sent: no name in it can be checked, so templates get the
  // normalized fields (docs/events.md) and the default message, which every source fills alike.
  const { raw: _raw, ...event } = message.event;
  const { event: _event, templated: _templated, ...defaults } = message;
  return { event: singleLine(event), message: defaults, route };
}

/** The customer's or agent's words: the only values a template gets with their line breaks. */
const multiLine = new Set(["message.text", "ticket.message"]);

/**
 * The event with every text value on one line (CR, LF, U+2028/2029 and other runs of space
 * become one space), but the words: a customer named `Bob\nStatus: closed` would otherwise write
 * a line of their own into a templated Slack message or email that reads as the relay's. The
 * default message's values are one line already (describe.ts).
 */
function singleLine<T>(value: T, path = ""): T {
  if (typeof value === "string") return (multiLine.has(path) ? value : oneLine(value)) as T;
  if (Array.isArray(value)) return value.map((item) => singleLine(item, path)) as T;
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).map(([key, item]) => [key, singleLine(item, path ? `${path}.${key}` : key)]);
  return Object.fromEntries(entries) as T;
}

/** Every field present, all the way down: the compiler keeps the sample in step with RelayEvent. */
type Complete<T> = { [K in keyof T]-?: CompleteValue<NonNullable<T[K]>> };
type CompleteValue<V> = V extends readonly unknown[] ? V : V extends object ? Complete<V> : V;

const person: Complete<Person> = {
  role: "customer",
  id: "p-1",
  name: "Sample Person",
  email: "person@example.com",
  phone: "+15555550100",
};

/**
 * An event with every field the relay knows, so that a name a template uses and this lacks is
 * a misspelling. Its numbers stay small: a template that loops over one stays cheap to check.
 */
function completeEvent(sourceType: string, type: string, known: boolean): RelayEvent {
  const event: Complete<Omit<RelayEvent, "raw">> = {
    id: "sample.0",
    source: sourceType,
    sourceType,
    type,
    known,
    receivedAt: "2026-01-01T12:00:00.000Z",
    occurredAt: "2026-01-01T11:59:58.000Z",
    community: "example",
    ticketId: "1234",
    link: "https://example.com/tickets/1234",
    ticket: {
      id: "1234",
      title: "Sample ticket",
      status: "pending",
      category: "Sample category",
      author: person,
      message: "Sample words",
      sentiment: "neutral",
      channel: "web",
    },
    previousStatus: "open",
    status: "pending",
    category: "Sample category",
    previousCategory: "Other category",
    tags: ["sample"],
    tagsAdded: ["sample"],
    tagsRemoved: ["old"],
    author: person,
    message: { kind: "reply", id: "m-1", text: "Sample words", direction: "inbound" },
    customer: person,
    assignee: person,
    conversationId: "c-1",
    state: "open",
  };
  return { ...event, raw: {} };
}

/** An event with only the fields every event has: most event types fill few of the others. */
function bareEvent(sourceType: string, type: string, known: boolean): RelayEvent {
  return {
    id: "sample.0",
    source: sourceType,
    sourceType,
    type,
    known,
    receivedAt: "2026-01-01T12:00:00.000Z",
    raw: {},
  };
}

export interface TemplateSample {
  type: string;
  variables: TemplateVariables;
  /**
   * Rendered with strict variables: every name exists in a complete sample, so an error is a
   * misspelt one (a loop variable's property, say, which static analysis cannot see).
   */
  strict: boolean;
}

/** The names a template may use, each present: what its variables are checked against. */
export function completeVariables(): TemplateVariables {
  return templateVariables(describeEvent(completeEvent("socialboards", "ticket_status_change", true)), "sample-route");
}

/**
 * Each event type the relay describes, and one it does not know: once complete (rendered
 * strictly) and once bare (rendered as deliveries are, where a missing field renders empty).
 */
export function templateSamples(): TemplateSample[] {
  const types = [...describedEventTypes(), { sourceType: "generic", type: "sample.event" }];
  return types.flatMap(({ sourceType, type }) => {
    const known = sourceType !== "generic";
    return [
      { type, strict: true, variables: variablesOf(completeEvent(sourceType, type, known)) },
      { type, strict: false, variables: variablesOf(bareEvent(sourceType, type, known)) },
    ];
  });
}

function variablesOf(event: RelayEvent): TemplateVariables {
  return templateVariables(describeEvent(event), "sample-route");
}

import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "../redis/connector.js";
import type { HistoryKeys } from "./history-keys.js";
import { bodyField } from "./recorder.js";
import type { Outcome, RefusedRequest, TakenAction } from "./records.js";
import { hasOutcome, storyOf, type WebhookStory } from "./story.js";

/** What `events` and `GET /admin/events` look for; every field narrows. */
export interface EventsFilter {
  ticket?: string;
  source?: string;
  type?: string;
  target?: string;
  outcome?: Outcome;
  /** Received at most this many ms ago. */
  since?: number;
  /** How many webhooks to answer with (default 50, at most 1000). */
  limit?: number;
  /** Where the previous page ended (its `next`). */
  cursor?: string;
}

export interface EventsPage {
  webhooks: WebhookStory[];
  /** Give it as `cursor` for the next, older page; undefined when there is none. */
  next?: string;
}

/** A ticket's timeline: its webhooks oldest first, and the link to its Slack thread when one was posted. */
export interface TicketTimeline {
  ticket: string;
  webhooks: WebhookStory[];
  slackThread?: string;
}

/** Webhooks read per round trip while looking for a page. */
const pageSize = 200;
/** Records looked at for one page at most: a rare filter answers with what it found, and a cursor. */
const maxScanned = 20_000;
/** The newest webhooks of a ticket a timeline shows. */
const maxTimeline = 500;
const defaultLimit = 50;

/**
 * Reads the history (history/records.ts) for the `events` and `ticket` commands and the admin
 * API: newest first, narrowed by any of ticket, source, type, target, outcome and age. It walks
 * the smallest index that fits the filter and checks the rest on each record, so a filter on a
 * rare outcome reads only the webhooks that ever had it.
 */
export class HistoryReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: HistoryKeys,
  ) {}

  async list(filter: EventsFilter = {}): Promise<EventsPage> {
    const limit = Math.min(1000, Math.max(1, filter.limit ?? defaultLimit));
    const index = await this.#smallestIndex(filter);
    const oldest = filter.since === undefined ? "-inf" : String(Date.now() - filter.since);
    const found: WebhookStory[] = [];
    let scanned = 0;
    for await (const page of this.#pages(index, oldest, parseCursor(filter.cursor), limit)) {
      const stories = await this.#stories(page.map(({ id }) => id));
      for (const [i, entry] of page.entries()) {
        scanned += 1;
        const story = stories[i];
        if (story && matches(story, filter)) found.push(story);
        if (found.length === limit || scanned >= maxScanned) return { webhooks: found, next: cursorOf(entry) };
      }
    }
    return { webhooks: found };
  }

  /**
   * An index's entries from the newest down to `oldest`, after `cursor`, a page at a time. Entries
   * of one ms sort by id, newest id first: those of the ms a page ends in are read whole before
   * the next page, so however many share it, none is skipped or read twice.
   */
  async *#pages(index: string, oldest: string, cursor: Entry | undefined, first: number): AsyncGenerator<Entry[]> {
    let after = cursor;
    let max = after ? String(after.score) : "+inf";
    // The first page as large as what is asked for (most filters match what their index holds);
    // then larger, for a filter that passes few of the webhooks it reads.
    let size = Math.min(pageSize, first);
    for (;;) {
      if (after) {
        const { score, id } = after;
        const rest = pairs(await this.redis.zrevrangebyscore(index, score, score, "WITHSCORES"));
        const sameMs = rest.filter((entry) => entry.id < id);
        if (sameMs.length > 0) yield sameMs;
        max = `(${score}`;
      }
      const page = pairs(await this.redis.zrevrangebyscore(index, max, oldest, "WITHSCORES", "LIMIT", 0, size));
      if (page.length === 0) return;
      yield page;
      size = Math.min(pageSize, size * 4);
      after = page.at(-1);
    }
  }

  /** One webhook's whole story, with its body when kept (`history.bodies`). */
  async show(receiptId: string): Promise<(WebhookStory & { body?: unknown; failedEvents?: unknown[] }) | undefined> {
    const [story] = await this.#stories([receiptId]);
    if (!story) return undefined;
    const kept = await this.redis.hgetall(this.keys.body(receiptId));
    const { [bodyField]: body, ...events } = kept;
    return {
      ...story,
      ...(body !== undefined && { body: parseJson(body) }),
      ...(Object.keys(events).length > 0 && { failedEvents: Object.values(events).map(parseJson) }),
    };
  }

  /** The events kept of a webhook (`history.bodies`): its whole body, and the events whose delivery failed. */
  async keptBody(receiptId: string): Promise<{ body?: string; events: Record<string, string> }> {
    const { [bodyField]: body, ...events } = await this.redis.hgetall(this.keys.body(receiptId));
    return { ...(body !== undefined && { body }), events };
  }

  async ticket(ticketId: string): Promise<TicketTimeline> {
    const ids = await this.redis.zrange(this.keys.ticket(ticketId), String(-maxTimeline), "-1");
    const webhooks = (await this.#stories(ids)).filter((story) => story !== undefined);
    return { ticket: ticketId, webhooks, ...optional("slackThread", slackThreadOf(webhooks)) };
  }

  /** The newest refused requests of the sources named, merged, newest first. */
  async refused(sources: readonly string[], limit = 1000): Promise<RefusedRequest[]> {
    const reads = this.redis.pipeline();
    for (const source of sources) reads.lrange(this.keys.refused(source), 0, limit - 1);
    const lists = (await answersOf(reads)).map((list) => (Array.isArray(list) ? (list as string[]) : []));
    return lists
      .flat()
      .map((line) => parseJson(line) as RefusedRequest)
      .filter((request) => request?.at !== undefined)
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limit);
  }

  /** The newest actions taken by hand (mutes, purges, replays, enables). */
  async actions(limit: number): Promise<TakenAction[]> {
    const lines = await this.redis.lrange(this.keys.actions, 0, limit - 1);
    return lines.map((line) => parseJson(line) as TakenAction).filter((action) => action?.at !== undefined);
  }

  /** The receipt ids received after `afterMs` (ms), oldest first: what `events tail` shows next. */
  async receivedSince(afterMs: number): Promise<{ id: string; score: number }[]> {
    return pairs(
      await this.redis.zrangebyscore(this.keys.webhooks, `(${afterMs}`, "+inf", "WITHSCORES", "LIMIT", 0, 1000),
    );
  }

  /** Stories of these webhooks, in order; undefined for one no longer kept. */
  async stories(ids: readonly string[]): Promise<(WebhookStory | undefined)[]> {
    return this.#stories(ids);
  }

  async #stories(ids: readonly string[]): Promise<(WebhookStory | undefined)[]> {
    if (ids.length === 0) return [];
    const reads = this.redis.pipeline();
    for (const id of ids) reads.lrange(this.keys.webhook(id), 0, -1);
    return (await answersOf(reads)).map((list) => (Array.isArray(list) ? storyOf(list as string[]) : undefined));
  }

  /** The index of the filter's most selective field; every webhook's when it names none. */
  async #smallestIndex(filter: EventsFilter): Promise<string> {
    if (filter.ticket !== undefined) return this.keys.ticket(filter.ticket);
    const candidates = [
      filter.outcome && this.keys.by("outcome", filter.outcome),
      filter.target && this.keys.by("target", filter.target),
      filter.type && this.keys.by("type", filter.type),
      filter.source && this.keys.by("source", filter.source),
    ].filter((key): key is string => Boolean(key));
    if (candidates.length === 0) return this.keys.webhooks;
    const sizes = await Promise.all(candidates.map((key) => this.redis.zcard(key)));
    return candidates[sizes.indexOf(Math.min(...sizes))] as string;
  }
}

/** Whether a story passes every field of the filter (the index walked passed one already). */
export function matches(story: WebhookStory, filter: EventsFilter): boolean {
  const { webhook } = story;
  if (filter.source !== undefined && webhook.source !== filter.source) return false;
  if (filter.type !== undefined && !webhook.events.some((event) => event.type === filter.type)) return false;
  if (filter.target !== undefined && !story.deliveries.some((delivery) => delivery.target === filter.target)) {
    return false;
  }
  if (
    filter.ticket !== undefined &&
    !webhook.events.some((event) => (event.ticketId ?? event.conversationId) === filter.ticket)
  ) {
    return false;
  }
  return filter.outcome === undefined || hasOutcome(story, filter.outcome);
}

/** The link to a ticket's Slack thread: its root's, read from any delivered message of the thread. */
function slackThreadOf(webhooks: readonly WebhookStory[]): string | undefined {
  for (const story of webhooks) {
    for (const delivery of story.deliveries) {
      for (const step of delivery.steps) {
        const slack = step.kind === "delivered" ? step.where?.slack : undefined;
        if (!slack?.permalink) continue;
        const root = slack.threadTs ?? slack.ts;
        const link = new URL(slack.permalink);
        return `${link.origin}/archives/${slack.channel}/p${root.replace(".", "")}`;
      }
    }
  }
  return undefined;
}

/** A pipeline's answers; the first command that failed (Redis gone mid-way) fails it all, as a lone command would. */
async function answersOf(pipeline: ChainableCommander): Promise<unknown[]> {
  const answers = (await pipeline.exec()) ?? [];
  for (const [error] of answers) if (error) throw error;
  return answers.map(([, answer]) => answer);
}

/** One index entry: a webhook's receipt id and the ms it was received. */
interface Entry {
  id: string;
  score: number;
}

function pairs(flat: string[]): Entry[] {
  const result: Entry[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) result.push({ id: flat[i] as string, score: Number(flat[i + 1]) });
  return result;
}

function cursorOf({ id, score }: { id: string; score: number }): string {
  return Buffer.from(`${score}:${id}`).toString("base64url");
}

function parseCursor(cursor: string | undefined): { id: string; score: number } | undefined {
  if (!cursor) return undefined;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const colon = text.indexOf(":");
  const score = Number(text.slice(0, colon));
  if (colon < 0 || !Number.isFinite(score)) throw new InvalidCursor();
  return { score, id: text.slice(colon + 1) };
}

/** A cursor not made by `list`: the caller is told to start again without it. */
export class InvalidCursor extends Error {
  override name = "InvalidCursor";
  constructor() {
    super("cursor is not one this relay gave; start again without it");
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

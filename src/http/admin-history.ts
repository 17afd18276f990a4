import type Router from "@koa/router";
import type Koa from "koa";
import { z } from "zod";
import { durationPattern, parseDuration } from "../config/duration.js";
import { type EventsFilter, type HistoryReader, InvalidCursor } from "../history/history-reader.js";
import type { HistoryTools } from "../history/history-tools.js";
import { type Outcome, outcomes } from "../history/records.js";
import { firstValue } from "../sources/secure-compare.js";
import { HttpError, parseJsonBody, readJsonBody } from "./body.js";

const filterParameters = ["ticket", "source", "type", "target", "outcome", "since", "limit", "cursor"] as const;
const maxLimit = 1000;

/** Milliseconds, or a duration such as "1h" as in the config. */
const age = z.union([z.number().int().nonnegative(), z.string().regex(durationPattern).transform(parseDuration)]);
const name = z.string().min(1);
const dryRun = z.boolean().optional();
const replayBody = z.union([
  z.strictObject({ receipts: z.array(name).min(1), dryRun }),
  z
    .strictObject({
      ticket: name.optional(),
      target: name.optional(),
      outcome: z.enum(outcomes).optional(),
      since: age.optional(),
      dryRun,
    })
    // `since` alone would replay every delivery of the last hour: a replay names what it is about.
    .refine((body) => body.ticket !== undefined || body.target !== undefined || body.outcome !== undefined),
]);

const historyOff =
  "the history is off (history.enabled: false): set history.enabled: true and restart the relay to keep what happens to each webhook";

/**
 * The `events`, `ticket` and `events replay` commands over HTTP, behind the admin token as
 * /admin/dlq is: `GET /admin/events`, `GET /admin/events/:receiptId`, `GET /admin/tickets/:id`,
 * `GET /admin/refused`, `POST /admin/events/replay`, `DELETE /admin/tickets/:id`. They call the
 * same HistoryTools as the commands. With the history off, each says how to turn it on.
 */
export function addHistoryRoutes(
  router: Router,
  authorized: Koa.Middleware,
  history: HistoryTools | undefined,
  bodyLimit: number,
  fromRedis: <T>(work: Promise<T>) => Promise<T>,
): void {
  if (!history) {
    const off: Koa.Middleware = () => {
      throw new HttpError(404, historyOff);
    };
    for (const path of ["/admin/events", "/admin/events/:receiptId", "/admin/tickets/:id", "/admin/refused"]) {
      router.get(path, authorized, off);
    }
    router.post("/admin/events/replay", authorized, off);
    router.delete("/admin/tickets/:id", authorized, off);
    return;
  }
  const { reader, replays } = history;

  router.get("/admin/events", authorized, async (ctx) => {
    const filter = eventsFilterOf(ctx.query);
    try {
      ctx.body = await fromRedis(reader.list(filter));
    } catch (error) {
      if (error instanceof InvalidCursor) throw new HttpError(400, error.message);
      throw error;
    }
  });

  router.get("/admin/events/:receiptId", authorized, async (ctx) => {
    const { receiptId } = ctx.params as { receiptId: string };
    const story = await fromRedis(reader.show(receiptId));
    if (!story) {
      throw new HttpError(
        404,
        `no webhook "${receiptId}" in the history: not routed yet, older than history.maxAge, trimmed by history.maxWebhooks, or forgotten`,
      );
    }
    ctx.body = story;
  });

  router.get("/admin/tickets/:id", authorized, async (ctx) => {
    ctx.body = await fromRedis(reader.ticket((ctx.params as { id: string }).id));
  });

  router.get("/admin/refused", authorized, async (ctx) => {
    ctx.body = { refused: await fromRedis(history.refused(firstValue(ctx.query.source) || undefined)) };
  });

  router.post("/admin/events/replay", authorized, async (ctx) => {
    const parsed = replayBody.safeParse(parseJsonBody(await readJsonBody(ctx, bodyLimit)));
    if (!parsed.success) {
      throw new HttpError(
        400,
        `send {"receipts": ["<receipt id>", …]}, or any of "ticket", "target" and "outcome" (${outcomes.join(", ")}) with optionally "since": "1h"; and "dryRun": true to count without queueing`,
      );
    }
    const { dryRun: countOnly, ...selector } = parsed.data;
    // The plan leaves out a receipt the history has no record of: the answer names it.
    const unknown = "receipts" in selector ? await fromRedis(unknownReceipts(reader, selector.receipts)) : [];
    const plan = await fromRedis(replays.plan(selector));
    if (countOnly) {
      ctx.body = { dryRun: true, wouldReplay: plan.replays.length, ...plan, unknown };
      return;
    }
    const { replayed, cannot } = await fromRedis(replays.replay(plan, "admin API"));
    ctx.body = { replayed, replays: plan.replays, cannot, unknown };
  });

  router.delete("/admin/tickets/:id", authorized, async (ctx) => {
    const ticket = (ctx.params as { id: string }).id;
    ctx.body = { ticket, forgotten: await fromRedis(history.forget(ticket)) };
  });
}

async function unknownReceipts(reader: HistoryReader, receipts: readonly string[]): Promise<string[]> {
  const stories = await reader.stories(receipts);
  return receipts.filter((_, i) => stories[i] === undefined);
}

/** The query of `GET /admin/events` as a filter; a 400 that says what is allowed for anything else. */
function eventsFilterOf(query: Koa.Context["query"]): EventsFilter {
  const unknown = Object.keys(query).filter((key) => !(filterParameters as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new HttpError(400, `unknown query parameter "${unknown[0]}"; the filters are ${filterParameters.join(", ")}`);
  }
  const value = (key: (typeof filterParameters)[number]) => firstValue(query[key]) || undefined;
  const filter: EventsFilter = {
    ticket: value("ticket"),
    source: value("source"),
    type: value("type"),
    target: value("target"),
    cursor: value("cursor"),
  };
  const outcome = value("outcome");
  if (outcome !== undefined) {
    if (!(outcomes as readonly string[]).includes(outcome)) {
      throw new HttpError(400, `outcome is one of ${outcomes.join(", ")}, not "${outcome}"`);
    }
    filter.outcome = outcome as Outcome;
  }
  const since = value("since");
  if (since !== undefined) {
    if (!durationPattern.test(since)) {
      throw new HttpError(400, `since takes a duration such as "1h" or "7d", not "${since}"`);
    }
    filter.since = parseDuration(since);
  }
  const limit = value("limit");
  if (limit !== undefined) {
    const count = Number(limit);
    if (!Number.isInteger(count) || count < 1 || count > maxLimit) {
      throw new HttpError(400, `limit is a whole number from 1 to ${maxLimit}, not "${limit}"`);
    }
    filter.limit = count;
  }
  return filter;
}

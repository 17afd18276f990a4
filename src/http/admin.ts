import type Router from "@koa/router";
import type Koa from "koa";
import { z } from "zod";
import { durationPattern, parseDuration } from "../config/duration.js";
import type { HistoryTools } from "../history/history-tools.js";
import type { DeadLetters } from "../queue/dead-letters.js";
import { isRedisUnavailable } from "../redis/connections.js";
import { firstValue, secretsEqual } from "../sources/secure-compare.js";
import { addHistoryRoutes } from "./admin-history.js";
import { addMuteRoutes, type MuteAdminDeps } from "./admin-mutes.js";
import { HttpError, parseJsonBody, readJsonBody } from "./body.js";

export interface AdminDeps {
  /** `admin.token`; the routes exist only when it is set. */
  token: string;
  deadLetters: DeadLetters;
  /** `/admin/mutes` (http/admin-mutes.ts). */
  mutes?: MuteAdminDeps;
  /** `/admin/events`, `/admin/tickets`, `/admin/refused` (http/admin-history.ts); absent while the history is off. */
  history?: HistoryTools;
}

/** Milliseconds, or a duration such as "1h" as in the config. */
const age = z.union([z.number().int().nonnegative(), z.string().regex(durationPattern).transform(parseDuration)]);
const byIds = z.strictObject({ ids: z.array(z.string().min(1)).min(1) });
const target = z.string().min(1);
const replayBody = z.union([
  byIds,
  z.strictObject({ target, since: age.optional() }),
  z.strictObject({ all: z.literal(true), since: age.optional() }),
]);
const purgeBody = z.union([
  byIds,
  z.strictObject({ target, olderThan: age.optional() }),
  z.strictObject({ all: z.literal(true), olderThan: age.optional() }),
]);

/**
 * The dead-letter commands over HTTP, on the ingest port, for whoever cannot run the CLI next
 * to Redis: `GET /admin/dlq`, `POST /admin/dlq/replay`, `DELETE /admin/dlq`. Each request
 * must carry `Authorization: Bearer <admin.token>`, checked before its body is read.
 */
export function addAdminRoutes(
  router: Router,
  { token, deadLetters, mutes, history }: AdminDeps,
  bodyLimit: number,
): void {
  const authorized = bearerOnly(token);
  if (mutes) addMuteRoutes(router, authorized, mutes, bodyLimit, fromRedis);
  addHistoryRoutes(router, authorized, history, bodyLimit, fromRedis);

  router.get("/admin/dlq", authorized, async (ctx) => {
    const since = firstValue(ctx.query.since);
    const parsed = age.optional().safeParse(since);
    if (!parsed.success) throw new HttpError(400, `since takes a duration such as "1h" or "7d", not "${since}"`);
    const deadLettersFound = await fromRedis(
      deadLetters.list({ target: firstValue(ctx.query.target), since: parsed.data }),
    );
    ctx.body = { deadLetters: deadLettersFound };
  });

  router.post("/admin/dlq/replay", authorized, async (ctx) => {
    const selector = await selectorOf(ctx, bodyLimit, replayBody, "since");
    const replayedIds: string[] = [];
    ctx.body = await fromRedis(deadLetters.replay(selector, replayedIds));
    await history?.noteReplayed(replayedIds, "admin API");
  });

  router.delete("/admin/dlq", authorized, async (ctx) => {
    const selector = await selectorOf(ctx, bodyLimit, purgeBody, "olderThan");
    ctx.body = await fromRedis(deadLetters.purge(selector));
  });
}

/** Constant-time, so the token cannot be found one character at a time by timing the 401s. */
function bearerOnly(token: string): Koa.Middleware {
  return async (ctx, next) => {
    const received = /^Bearer (.+)$/i.exec(ctx.get("authorization"))?.[1];
    if (!secretsEqual(token, received)) {
      throw new HttpError(401, "send Authorization: Bearer <admin.token>", { "WWW-Authenticate": "Bearer" });
    }
    await next();
  };
}

async function selectorOf<S extends z.ZodType>(
  ctx: Koa.Context,
  bodyLimit: number,
  schema: S,
  narrowing: string,
): Promise<z.output<S>> {
  const parsed = schema.safeParse(parseJsonBody(await readJsonBody(ctx, bodyLimit)));
  if (parsed.success) return parsed.data;
  throw new HttpError(
    400,
    `send {"ids": [...]}, {"target": "<id>"} or {"all": true}; with a target or all, optionally "${narrowing}": "7d"`,
  );
}

/** Redis away is a 503 the caller can retry, not a 500. */
async function fromRedis<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    throw new HttpError(503, "Redis is unreachable; try again");
  }
}

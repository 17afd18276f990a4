import type Router from "@koa/router";
import type Koa from "koa";
import { z } from "zod";
import { durationPattern, parseDuration } from "../config/duration.js";
import { type MuteKind, type Mutes, resolveMuteSubject } from "../queue/mutes.js";
import { HttpError, parseJsonBody, readJsonBody } from "./body.js";

export interface MuteAdminDeps {
  mutes: Mutes;
  /** Target ids and route names of the config in force now. */
  subjects: () => { targets: string[]; routes: string[] };
}

const name = z.string().min(1);
/** Milliseconds, or a duration such as "1h" as in the config; more than none. */
const length = z
  .union([z.number().int(), z.string().regex(durationPattern).transform(parseDuration)])
  .refine((ms) => ms > 0);
const muteBody = z.union([
  z.strictObject({ target: name, for: length, reason: z.string().optional(), drop: z.boolean().optional() }),
  z.strictObject({ route: name, for: length, reason: z.string().optional(), drop: z.boolean().optional() }),
]);
const unmuteBody = z.union([z.strictObject({ target: name }), z.strictObject({ route: name })]);

/**
 * `ticket-relay mute`, `unmute` and `mutes` over HTTP, behind the admin token as /admin/dlq is:
 * `GET /admin/mutes`, `POST /admin/mutes`, `DELETE /admin/mutes`.
 */
export function addMuteRoutes(
  router: Router,
  authorized: Koa.Middleware,
  { mutes, subjects }: MuteAdminDeps,
  bodyLimit: number,
  fromRedis: <T>(work: Promise<T>) => Promise<T>,
): void {
  router.get("/admin/mutes", authorized, async (ctx) => {
    ctx.body = { mutes: await fromRedis(mutes.list()) };
  });

  router.post("/admin/mutes", authorized, async (ctx) => {
    const parsed = muteBody.safeParse(parseJsonBody(await readJsonBody(ctx, bodyLimit)));
    if (!parsed.success) {
      throw new HttpError(
        400,
        'send {"target": "<id>"} or {"route": "<name>"} with "for": "1h", and optionally "reason": "…" and "drop": true',
      );
    }
    const { for: forMs, reason, drop } = parsed.data;
    const subject = known(subjectOf(parsed.data), subjects());
    ctx.body = await fromRedis(mutes.mute(subject, { forMs, reason, drop }));
    ctx.status = 201;
  });

  router.delete("/admin/mutes", authorized, async (ctx) => {
    const parsed = unmuteBody.safeParse(parseJsonBody(await readJsonBody(ctx, bodyLimit)));
    if (!parsed.success) throw new HttpError(400, 'send {"target": "<id>"} or {"route": "<name>"}');
    const active = await fromRedis(mutes.active());
    const subject = known(subjectOf(parsed.data), subjects(), active);
    const { removed, released } = await fromRedis(mutes.unmute(subject));
    ctx.body = { unmuted: removed, released };
  });
}

function subjectOf(body: { target: string } | { route: string }): { kind: MuteKind; name: string } {
  return "target" in body ? { kind: "target", name: body.target } : { kind: "route", name: body.route };
}

/** The subject, when the config (or a mute in force) knows it; else a 404 that says what there is. */
function known(
  subject: { kind: MuteKind; name: string },
  config: { targets: string[]; routes: string[] },
  active: readonly { kind: MuteKind; name: string }[] = [],
): { kind: MuteKind; name: string } {
  const resolved = resolveMuteSubject(`${subject.kind}:${subject.name}`, config, active);
  if ("problem" in resolved) throw new HttpError(404, resolved.problem);
  return resolved;
}

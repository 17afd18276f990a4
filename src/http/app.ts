import Router from "@koa/router";
import Koa from "koa";
import type { RefusedRequest } from "../history/records.js";
import type { Logger } from "../log.js";
import type { WebhookRecorder } from "../metrics/relay-metrics.js";
import type { Intake } from "../queue/inbound/intake.js";
import type { Source } from "../sources/source.js";
import { logRequests } from "./access-log.js";
import { type AdminDeps, addAdminRoutes } from "./admin.js";
import { HttpError, parseJsonText, readJsonBody } from "./body.js";
import { closeWhenBodyUnread } from "./connection.js";
import { answerErrors, answerNotFound } from "./error-answer.js";
import { addHealthRoutes } from "./health.js";
import { refuseOtherMethods } from "./methods.js";
import { newReceiptId } from "./receipt-id.js";
import { recordRefusals } from "./refusals.js";
import { measureWebhooks } from "./webhook-metrics.js";

export interface HttpAppDeps {
  /** The sources in force now: a reload swaps them between two requests. */
  sources: () => ReadonlyMap<string, Source>;
  /** True once shutdown began: /readyz says 503, so a load balancer stops sending here. */
  stopping?: () => boolean;
  intake: Intake;
  logger: Logger;
  bodyLimit: number;
  /** More events than this in one webhook get 413: each event fans out to its own deliveries. */
  maxEventsPerWebhook: number;
  /** The admin API (http/admin.ts), when `admin.token` is set; without it, /admin/* is a 404. */
  admin?: AdminDeps;
  /** Counts webhooks and serves `GET /metrics` (metrics/). */
  metrics?: { webhooks: WebhookRecorder; endpoint: Koa.Middleware };
  /** The console (http/console/), when `admin.token` is set; without it, a 404 saying how to turn it on. */
  console?: Koa.Middleware;
  /** Believe X-Forwarded-For and X-Forwarded-Proto (`server.trustProxy`). */
  trustProxy?: boolean;
  /** Keeps refused webhook requests in the history (http/refusals.ts), when it is on. */
  refused?: (request: RefusedRequest) => void;
}

/**
 * The webhook endpoints, health and readiness. A webhook is answered 200 only after Redis
 * holds it; everything else is a JSON error saying what is wrong.
 */
export function createHttpApp(deps: HttpAppDeps): Koa {
  const { sources, intake, logger, bodyLimit, maxEventsPerWebhook, admin, stopping = () => false } = deps;
  const app = new Koa();
  app.proxy = deps.trustProxy ?? false;
  const router = new Router();

  addHealthRoutes(router, { ready: () => intake.ping(), stopping, degraded: () => intake.degraded() });

  router.get("/webhooks/:source", (ctx) => {
    const source = findSource(sources(), ctx.params.source);
    if (!source.answerChallenge) {
      throw new HttpError(405, `source "${source.id}" has no GET handshake`, { Allow: "POST" });
    }
    const answer = source.answerChallenge(ctx.query);
    if (!answer.ok) throw new HttpError(answer.status, answer.error);
    ctx.type = "text/plain";
    ctx.body = answer.body;
  });

  router.post("/webhooks/:source", async (ctx) => {
    const source = findSource(sources(), ctx.params.source);
    // Strangers are refused before the body is read: reading and parsing up to bodyLimit is
    // work a wrong token must not be able to buy.
    const request = { query: ctx.query, headers: ctx.headers };
    const beforeBody = source.authenticate(request);
    if (!beforeBody.ok) throw new HttpError(401, beforeBody.error);
    const raw = await readJsonBody(ctx, bodyLimit, source.jsonWhateverContentType === true);
    // A signature is checked over the exact bytes, before they are parsed.
    const authentication = source.verifyBody?.({ ...request, rawBody: raw }) ?? beforeBody;
    if (!authentication.ok) throw new HttpError(401, authentication.error);
    const { json, text } = parseJsonText(raw);
    const { events } = source.validate(json);
    if (events > maxEventsPerWebhook) {
      throw new HttpError(
        413,
        `webhook carries ${events} events; at most ${maxEventsPerWebhook} are taken per webhook (server.maxEventsPerWebhook)`,
      );
    }

    const receivedAt = Date.now();
    const receipt = { id: newReceiptId(receivedAt), source: source.id, receivedAt: new Date(receivedAt).toISOString() };
    const outcome = await intake.accept({
      receipt,
      payload: json,
      rawBody: raw,
      bodyText: text,
      messageId: authentication.messageId,
    });
    if (outcome === "duplicate") {
      // Already stored under this signed id: 2xx, so an honest sender stops retrying, and
      // nothing is queued, so a replay delivers nothing.
      ctx.body = { accepted: 0, duplicate: true };
      return;
    }
    ctx.state.receiptId = receipt.id;
    // The receipt id starts every event and delivery id made from this webhook: `try` and the
    // logs follow it. `spooled`: on this machine's disk, to be moved into Redis (spool/).
    ctx.body = { accepted: events, receipt: receipt.id, ...(outcome === "spooled" && { spooled: true }) };
  });

  if (admin) addAdminRoutes(router, admin, bodyLimit);
  // Where the queue dashboard was: the console shows what became of each webhook, and its dead letters.
  if (deps.console) router.get(["/admin/queues", "/admin/queues/{*rest}"], (ctx) => ctx.redirect("/console"));
  if (deps.metrics) router.get("/metrics", deps.metrics.endpoint);

  app.use(closeWhenBodyUnread());
  if (deps.metrics) app.use(measureWebhooks(deps.metrics.webhooks, (id) => sources().has(id)));
  app.use(logRequests(logger));
  if (deps.refused) app.use(recordRefusals(deps.refused, (id) => sources().has(id)));
  app.use(answerErrors(logger));
  app.use(deps.console ?? offWithoutToken("/console", "the console"));
  if (!admin) app.use(offWithoutToken("/admin", "the admin API"));
  app.use(refuseOtherMethods(router));
  app.use(router.routes());
  app.use(answerNotFound());
  return app;
}

/** A path that exists only with `admin.token`: without it, a 404 that says how to turn it on. */
function offWithoutToken(prefix: string, what: string): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) return next();
    throw new HttpError(
      404,
      `${what} is off: set admin.token in the config (token: "\${RELAY_ADMIN_TOKEN}", and RELAY_ADMIN_TOKEN in .env) and restart the relay`,
    );
  };
}

function findSource(sources: ReadonlyMap<string, Source>, id: string | undefined): Source {
  const source = id === undefined ? undefined : sources.get(id);
  if (!source) throw new HttpError(404, `unknown source "${id}"`);
  return source;
}

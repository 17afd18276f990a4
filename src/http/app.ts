import { randomUUID } from "node:crypto";
import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "../log.js";
import type { Intake } from "../queue/intake.js";
import { QueueUnavailable } from "../queue/intake.js";
import { InvalidPayload, type Source } from "../sources/source.js";
import { type AdminDeps, addAdminRoutes } from "./admin.js";
import { HttpError, parseJsonBody, readJsonBody } from "./body.js";
import { closeWhenBodyUnread } from "./connection.js";
import { refuseOtherMethods } from "./methods.js";

export interface HttpAppDeps {
  sources: ReadonlyMap<string, Source>;
  intake: Intake;
  logger: Logger;
  bodyLimit: number;
  /** More events than this in one webhook get 413: each event fans out to its own deliveries. */
  maxEventsPerWebhook: number;
  /** The admin API (http/admin.ts), when `admin.token` is set; without it, /admin/* is a 404. */
  admin?: AdminDeps;
}

/**
 * The webhook endpoints, health and readiness. A webhook is answered 200 only after Redis
 * holds it; everything else is a JSON error saying what is wrong.
 */
export function createHttpApp({ sources, intake, logger, bodyLimit, maxEventsPerWebhook, admin }: HttpAppDeps): Koa {
  const app = new Koa();
  const router = new Router();

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });

  router.get("/readyz", async (ctx) => {
    const ready = await intake.ping();
    ctx.status = ready ? 200 : 503;
    ctx.body = ready ? { status: "ready" } : { error: "Redis is unreachable" };
  });

  router.get("/webhooks/:source", (ctx) => {
    const source = findSource(sources, ctx.params.source);
    if (!source.answerChallenge) {
      throw new HttpError(405, `source "${source.id}" has no GET handshake`, { Allow: "POST" });
    }
    const answer = source.answerChallenge(ctx.query);
    if (!answer.ok) throw new HttpError(answer.status, answer.error);
    ctx.type = "text/plain";
    ctx.body = answer.body;
  });

  router.post("/webhooks/:source", async (ctx) => {
    const source = findSource(sources, ctx.params.source);
    // Strangers are refused before the body is read: reading and parsing up to bodyLimit is
    // work a wrong token must not be able to buy.
    const request = { query: ctx.query, headers: ctx.headers };
    const beforeBody = source.authenticate(request);
    if (!beforeBody.ok) throw new HttpError(401, beforeBody.error);
    const raw = await readJsonBody(ctx, bodyLimit, source.jsonWhateverContentType === true);
    // A signature is checked over the exact bytes, before they are parsed.
    const authentication = source.verifyBody?.({ ...request, rawBody: raw }) ?? beforeBody;
    if (!authentication.ok) throw new HttpError(401, authentication.error);
    const json = parseJsonBody(raw);
    const { events } = source.validate(json);
    if (events > maxEventsPerWebhook) {
      throw new HttpError(
        413,
        `webhook carries ${events} events; at most ${maxEventsPerWebhook} are taken per webhook (server.maxEventsPerWebhook)`,
      );
    }

    const receipt = { id: randomUUID(), source: source.id, receivedAt: new Date().toISOString() };
    const outcome = await intake.accept({ receipt, payload: json, rawBody: raw, messageId: authentication.messageId });
    if (outcome === "duplicate") {
      // Already stored under this signed id: 2xx, so an honest sender stops retrying, and
      // nothing is queued, so a replay delivers nothing.
      ctx.body = { accepted: 0, duplicate: true };
      return;
    }
    ctx.state.receiptId = receipt.id;
    // The receipt id starts every event and delivery id made from this webhook: `try` and the
    // logs follow it.
    ctx.body = { accepted: events, receipt: receipt.id };
  });

  if (admin) addAdminRoutes(router, admin, bodyLimit);

  app.use(closeWhenBodyUnread());
  app.use(errorsAsJson(logger));
  app.use(refuseOtherMethods(router));
  app.use(router.routes());
  app.use((ctx) => {
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: "not found" };
    }
  });
  return app;
}

function findSource(sources: ReadonlyMap<string, Source>, id: string | undefined): Source {
  const source = id === undefined ? undefined : sources.get(id);
  if (!source) throw new HttpError(404, `unknown source "${id}"`);
  return source;
}

/**
 * Every refusal becomes `{"error": "..."}` with its status, and one access-log line per
 * request. The path is logged without its query string, which may carry a token.
 */
function errorsAsJson(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } catch (error) {
      if (error instanceof HttpError) {
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: error.message };
      } else if (error instanceof InvalidPayload) {
        ctx.status = 400;
        ctx.body = { error: error.message };
      } else if (error instanceof QueueUnavailable) {
        ctx.status = 503;
        ctx.set("Retry-After", "5");
        ctx.body = { error: "cannot store the webhook right now (Redis is unreachable); send it again" };
        logger.warn({ err: error.message }, "webhook refused: queue unavailable");
      } else {
        ctx.status = 500;
        ctx.body = { error: "internal error" };
        logger.error({ err: error }, "unexpected error");
      }
    }
    logger.info(
      {
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round(performance.now() - started),
        receiptId: ctx.state.receiptId,
      },
      "request",
    );
  };
}

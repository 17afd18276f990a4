import type { HttpTargetConfig } from "../config/schema.js";
import type { Message } from "../messages/message.js";
import { type DeliveryContext, PermanentFailure, RetryLater, type Target } from "./target.js";

const userAgent = "ticket-relay/0.1";

/** Statuses that say "later": timeouts, too early, too many, and every server error. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export function createHttpTarget(id: string, config: HttpTargetConfig): Target {
  return {
    id,
    type: "http",
    async send(message, context) {
      let response: Response;
      try {
        response = await fetch(config.url, {
          method: config.method,
          headers: { "content-type": "application/json", "user-agent": userAgent, ...config.headers },
          body: JSON.stringify(httpBody(message, context)),
          // A POST that is redirected would silently turn into a GET: treat a redirect as an answer.
          redirect: "manual",
          signal: AbortSignal.timeout(config.timeout),
        });
      } catch (error) {
        const reason =
          (error as Error).name === "TimeoutError" ? `no answer within ${config.timeout} ms` : (error as Error).message;
        throw new RetryLater(`HTTP ${id}: ${reason}`);
      }
      // Drain the body so the connection can be reused; its content is not ours to log.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { detail: `HTTP ${response.status}` };
      const reason = `HTTP ${id} answered ${response.status}`;
      if (isRetryableStatus(response.status)) {
        throw new RetryLater(reason, retryAfterMs(response.headers.get("retry-after")));
      }
      throw new PermanentFailure(reason);
    },
  };
}

/** The JSON a receiver gets: our reading of the event, and the platform's own JSON for it. */
export function httpBody(message: Message, context: DeliveryContext): Record<string, unknown> {
  const { raw, ...event } = message.event;
  return { deliveryId: context.deliveryId, route: context.route, title: message.title, event, payload: raw };
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import { type Dispatcher, Pool } from "undici";
import type { HttpTargetConfig } from "../config/schema.js";
import { digestJson } from "../messages/digest.js";
import type { Message } from "../messages/message.js";
import { signedHeaders } from "../signing/standard-webhooks.js";
import { BlockedAddress, checkingLookup, refusalForLiteralHost } from "./address-guard.js";
import { failureOfStatus, networkFailure } from "./failure.js";
import { networkCodeOf, queryRedactor, snippetOf, whyRequestFailed } from "./http-reasons.js";
import { answered, type DeliveryContext, PermanentFailure, type Target } from "./target.js";

const userAgent = "ticket-relay/0.1";

/**
 * How much of an answer we read: enough to say in the log why a receiver refused, never the
 * rest. Buffering whole answers let three 300 MB error pages take the process to 1.9 GB.
 */
const maxAnswerBytes = 4 * 1024;

/**
 * `config.allowPrivateNetwork` is the target's own setting or the config's top-level one
 * (targets/registry.ts); without it, the SSRF guard (address-guard.ts) checks every connection.
 */
export function createHttpTarget(id: string, config: HttpTargetConfig): Target {
  // Errors name the endpoint without its query string: that is where API keys go, and errors
  // end up in the logs and the failed set.
  const url = new URL(config.url);
  const endpoint = `HTTP ${id} (${config.method} ${url.origin}${url.pathname})`;
  const redact = queryRedactor(url);
  const guarded = !config.allowPrivateNetwork;
  // A host written as an address is connected to without a lookup, so it is checked here.
  const refusal = guarded ? refusalForLiteralHost(url.hostname) : undefined;
  // One pool of kept-alive connections per target (its URL has one origin), closed with it.
  // Redirects are never followed: a Pool does not, and failureOfStatus treats 3xx as a failure.
  const pool = new Pool(url.origin, guarded ? { connect: { lookup: checkingLookup() } } : {});

  return {
    id,
    type: "http",
    async send(message, context) {
      if (refusal) throw new PermanentFailure(`${endpoint}: ${refusal}`);
      const body = JSON.stringify(httpBody(message, context));
      const deadline = new Deadline(config.timeout);
      let response: Dispatcher.ResponseData;
      let start: string;
      try {
        try {
          response = await pool.request({
            path: `${url.pathname}${url.search}`,
            method: config.method,
            headers: requestHeaders(config, context.deliveryId, body),
            body,
            signal: deadline,
          });
        } catch (error) {
          if (deadline.aborted) {
            throw answered(networkFailure(`${endpoint}: no answer within ${config.timeout} ms`), { code: "timeout" });
          }
          const blocked = blockedBy(error);
          if (blocked) throw new PermanentFailure(`${endpoint}: ${blocked.message}`);
          const failure = networkFailure(`${endpoint}: ${redact(whyRequestFailed(error))}`);
          const code = networkCodeOf(error);
          throw code ? answered(failure, { code }) : failure;
        }
        start = await readStart(response.body);
      } finally {
        deadline.clear();
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { detail: `HTTP ${status}`, where: { status } };
      // Redacted before it is cut short, so that no part of a secret survives the cut.
      const answer = redact(start);
      const snippet = snippetOf(answer);
      const reason = `${endpoint} answered ${status}${snippet ? `: ${snippet}` : ""}`;
      throw answered(failureOfStatus(status, reason, response.headers["retry-after"]), { status, excerpt: answer });
    },
    async close() {
      // A closed pool ends destroyed, and closing it again would throw: shutdown may ask twice.
      if (!pool.destroyed) await pool.close();
    },
  };
}

/** The JSON a receiver gets: our reading of the event, and the platform's own JSON for it. */
export function httpBody(message: Message, context: DeliveryContext): Record<string, unknown> {
  const { deliveryId, route } = context;
  // A digest lists its events instead of carrying one (docs/targets/http.md, "Digests").
  if (message.digest) return { deliveryId, route, title: message.title, digest: digestJson(message.digest) };
  const { raw, ...event } = message.event;
  return { deliveryId, route, title: message.title, event, payload: raw };
}

/**
 * `webhook-id` is the delivery id, the same on every try, so a receiver can drop repeats; with a
 * signing secret it comes with the Standard Webhooks timestamp and signature. They go after the
 * configured headers, so that none of those can replace them.
 */
function requestHeaders(config: HttpTargetConfig, deliveryId: string, body: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": userAgent };
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  const webhook = config.signingSecret
    ? signedHeaders(config.signingSecret, deliveryId, body)
    : { "webhook-id": deliveryId };
  return { ...headers, ...webhook };
}

/**
 * One deadline for the whole exchange, answer and body alike, handed to undici as the request's
 * signal. undici takes an EventEmitter there as well as an AbortSignal, and this one costs a
 * fraction of an AbortController (an EventTarget) on every delivery: nearly a tenth of the
 * worker's CPU when draining a backlog (bench/README.md, "Where the time goes").
 */
class Deadline extends EventEmitter {
  aborted = false;
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number) {
    super();
    this.#timer = setTimeout(() => {
      this.aborted = true;
      this.emit("abort");
    }, ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** The guard's refusal, as the connection reports it (itself, or as the cause of another error). */
function blockedBy(error: unknown): BlockedAddress | undefined {
  if (error instanceof BlockedAddress) return error;
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof BlockedAddress ? cause : undefined;
}

/**
 * The first `maxAnswerBytes` of a body, as text. A body that ends within them is read to its
 * end, so the connection can be reused; a longer one is destroyed, which closes the connection
 * instead of downloading what nobody reads.
 */
async function readStart(body: Readable): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      // A chunk may be larger than what is left to read; `stream` keeps a cut character out.
      text += decoder.decode(chunk.subarray(0, maxAnswerBytes - bytes), { stream: true });
      bytes += chunk.byteLength;
      if (bytes >= maxAnswerBytes) {
        body.destroy();
        return text;
      }
    }
    return text + decoder.decode();
  } catch {
    // A body that breaks off or times out: the status alone still says what happened.
    body.destroy();
    return text;
  }
}

import type { HttpTargetConfig } from "../config/schema.js";
import type { Message } from "../messages/message.js";
import { type DeliveryContext, PermanentFailure, RetryLater, type Target } from "./target.js";

const userAgent = "ticket-relay/0.1";

/**
 * How much of an answer we read: enough to say in the log why a receiver refused, never the
 * rest. Buffering whole answers let three 300 MB error pages take the process to 1.9 GB.
 */
const maxAnswerBytes = 4 * 1024;
/** How much of a failing answer's body goes into the failure reason, on one line. */
const snippetLength = 200;

/** Statuses that say "later": timeouts, too early, too many, and every server error. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export function createHttpTarget(id: string, config: HttpTargetConfig): Target {
  // Errors name the endpoint without its query string: that is where API keys go, and errors
  // end up in the logs and the failed set.
  const url = new URL(config.url);
  const endpoint = `HTTP ${id} (${config.method} ${url.origin}${url.pathname})`;
  const redact = queryRedactor(url);

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
          (error as Error).name === "TimeoutError" ? `no answer within ${config.timeout} ms` : whyFetchFailed(error);
        throw new RetryLater(`${endpoint}: ${redact(reason)}`);
      }
      const start = await readStart(response.body);
      if (response.ok) return { detail: `HTTP ${response.status}` };
      // Redacted before it is cut short, so that no part of a secret survives the cut.
      const snippet = snippetOf(redact(start));
      const reason = `${endpoint} answered ${response.status}${snippet ? `: ${snippet}` : ""}`;
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

/**
 * The first `maxAnswerBytes` of a body, as text. A body that ends within them is read to its
 * end, so the connection can be reused; a longer one is cancelled, which closes the
 * connection instead of downloading what nobody reads.
 */
async function readStart(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  try {
    while (bytes < maxAnswerBytes) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      // A chunk may be larger than what is left to read; `stream` keeps a cut character out.
      text += decoder.decode(value.subarray(0, maxAnswerBytes - bytes), { stream: true });
      bytes += value.byteLength;
    }
  } catch {
    // A body that breaks off or times out: the status alone still says what happened.
  }
  await reader.cancel().catch(() => undefined);
  return text;
}

/** One line of at most `snippetLength` characters, control characters and all whitespace runs as single spaces. */
function snippetOf(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const line = text.replace(/[\s\u0000-\u001f\u007f]+/g, " ").trim();
  return line.length > snippetLength ? `${line.slice(0, snippetLength - 1)}…` : line;
}

/**
 * Why fetch threw, in words and with the system's code (`connection refused (ECONNREFUSED)`),
 * instead of undici's "fetch failed", which says nothing; the reason is in `cause`.
 */
function whyFetchFailed(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  // Several addresses tried (IPv4 and IPv6) give an AggregateError of one failure each.
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  if (code) return networkErrors[code] ? `${networkErrors[code]} (${code})` : code;
  return cause?.message ?? (error as Error).message ?? String(error);
}

const networkErrors: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed for now",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed by the other side",
};

/**
 * Removes the URL's query string, and each of its longer values, from text we did not write:
 * error messages and answers that echo the request back. Short values ("1", "json") are not
 * secrets, and removing them would mangle the rest.
 */
function queryRedactor(url: URL): (text: string) => string {
  const query = url.search.slice(1);
  if (!query) return (text) => text;
  const values = query.split("&").flatMap((pair) => {
    const raw = pair.slice(pair.indexOf("=") + 1);
    return pair.includes("=") ? [raw, decodeURIComponentSafe(raw)] : [];
  });
  const secrets = [query, ...values.filter((value) => value.length >= 6)].sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((clean, secret) => clean.replaceAll(secret, "…"), text);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

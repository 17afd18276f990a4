import type { IncomingMessage } from "node:http";
import type { Context } from "koa";
import { type BodyShare, bodyShareOf } from "./body-budget.js";
import { maxJsonDepth, nestsDeeperThan } from "./json-depth.js";

/** A request the HTTP layer refuses; its status and message become the JSON error answer (http/error-answer.ts). */
export class HttpError extends Error {
  /** Its message is written for the sender, a 503's too. */
  readonly expose = true;

  constructor(
    readonly status: number,
    message: string,
    /** Headers the answer needs, such as `Allow` on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Seconds a sender refused for want of body budget is asked to wait: held bodies finish or time out. */
const budgetRetryAfterSeconds = 5;

/**
 * Reads the exact bytes of a JSON request, refusing anything over `limit` before it is all in
 * memory. The bytes are returned as they came, because signatures are computed over them.
 * With `anyContentType`, the Content-Type header is not looked at: the parse decides.
 *
 * The bytes count against the server's body budget (http/body-budget.ts): a declared length is
 * taken before any byte is read, so a body that cannot fit is refused before it is buffered;
 * a chunked body is counted as its chunks arrive. The server gives the share back when the
 * request ends, however it ends.
 */
export async function readJsonBody(ctx: Context, limit: number, anyContentType = false): Promise<Buffer> {
  if (!anyContentType && !ctx.is("application/json", "+json")) {
    throw new HttpError(415, "send the webhook as JSON (Content-Type: application/json)");
  }
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  const share = bodyShareOf(ctx.req);
  if (declared !== undefined && share && !share.take(declared)) throw overBudget();
  return readBytes(ctx.req, limit, declared, declared === undefined ? share : undefined);
}

/** Collects the body, counting each chunk against `share` when one is given (a body of no declared length). */
function readBytes(
  request: IncomingMessage,
  limit: number,
  declared: number | undefined,
  share: BodyShare | undefined,
): Promise<Buffer> {
  if (!request.readable) return Promise.reject(unreadable());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (error: HttpError | undefined) => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
      if (!error) return resolve(Buffer.concat(chunks, received));
      // Nothing more is read: the answer says Connection: close (http/connection.ts).
      request.pause();
      chunks.length = 0;
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return stop(tooLarge(limit));
      if (share && !share.take(chunk.length)) return stop(overBudget());
      chunks.push(chunk);
    };
    // Node's parser never passes more than the declared length on; fewer means the sender quit.
    const onEnd = () => stop(declared !== undefined && received !== declared ? unreadable() : undefined);
    const onError = () => stop(unreadable());
    const onClose = () => stop(unreadable());
    request.on("data", onData);
    request.once("end", onEnd);
    request.once("error", onError);
    request.once("close", onClose);
  });
}

const tooLarge = (limit: number) => new HttpError(413, `body is larger than the ${limit}-byte limit`);
const unreadable = () => new HttpError(400, "could not read the request body");
const overBudget = () =>
  new HttpError(
    503,
    "too many request bodies are being received at once (server.maxBodyBytesInFlight); send it again shortly",
    { "Retry-After": String(budgetRetryAfterSeconds) },
  );

/**
 * JSON is UTF-8 (RFC 8259). Decoding leniently would turn bytes that are not into U+FFFD and
 * store a payload the sender never wrote; the BOM is left in, so JSON.parse refuses it as before.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as JSON, refusing nesting deeper than `maxJsonDepth` before parsing any of it. */
export function parseJsonBody(raw: Buffer): unknown {
  return parseJsonText(raw).json;
}

/** " at byte 112", where JSON.parse says it stopped, so a sender can find it in what it sent. */
function whereJsonBroke(error: unknown, text: string): string {
  const { message } = error as Error;
  if (/end of JSON input/.test(message)) return ": it ends before the JSON does";
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return "";
  return ` at byte ${Buffer.byteLength(text.slice(0, Number(position)))}`;
}

/** The body as JSON and the text it was parsed from, decoded once: ingest stores that text. */
export function parseJsonText(raw: Buffer): { json: unknown; text: string } {
  if (nestsDeeperThan(raw, maxJsonDepth)) throw new HttpError(400, `JSON nested deeper than ${maxJsonDepth} levels`);
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpError(400, "body is not valid UTF-8");
  }
  try {
    return { json: JSON.parse(text), text };
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON${whereJsonBroke(error, text)}`);
  }
}

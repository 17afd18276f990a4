import type { Context } from "koa";
import getRawBody from "raw-body";
import { maxJsonDepth, nestsDeeperThan } from "./json-depth.js";

/** A request the HTTP layer refuses; its status and message become the JSON error answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers the answer needs, such as `Allow` on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Reads the exact bytes of a JSON request, refusing anything over `limit` before it is all in
 * memory. The bytes are returned as they came, because signatures are computed over them.
 * With `anyContentType`, the Content-Type header is not looked at: the parse decides.
 */
export async function readJsonBody(ctx: Context, limit: number, anyContentType = false): Promise<Buffer> {
  if (!anyContentType && !ctx.is("application/json", "+json")) {
    throw new HttpError(415, "send the webhook as JSON (Content-Type: application/json)");
  }
  try {
    return await getRawBody(ctx.req, { limit, length: ctx.request.length });
  } catch (error) {
    const { type, status } = error as { type?: string; status?: number };
    if (type === "entity.too.large") throw new HttpError(413, `body is larger than the ${limit}-byte limit`);
    throw new HttpError(status && status < 500 ? status : 400, "could not read the request body");
  }
}

/**
 * JSON is UTF-8 (RFC 8259). Decoding leniently would turn bytes that are not into U+FFFD and
 * store a payload the sender never wrote; the BOM is left in, so JSON.parse refuses it as before.
 */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The body as JSON, refusing nesting deeper than `maxJsonDepth` before parsing any of it. */
export function parseJsonBody(raw: Buffer): unknown {
  return parseJsonText(raw).json;
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
  } catch {
    throw new HttpError(400, "body is not valid JSON");
  }
}

import type Koa from "koa";
import { HttpError } from "../body.js";

/**
 * A form's fields (application/x-www-form-urlencoded), read up to `limit` bytes: the console's
 * pages post plain HTML forms, so they work without a line of JavaScript.
 */
export async function readForm(ctx: Koa.Context, limit: number): Promise<URLSearchParams> {
  const type = ctx.get("content-type").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "send the form as application/x-www-form-urlencoded");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `form is larger than the ${limit}-byte limit`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

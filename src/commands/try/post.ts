import { oneLine } from "../output.js";

/** How long `try` waits for the relay's answer: it answers within Socialboards' 20 s, or not at all. */
const answerTimeoutMs = 25_000;

/** What the running relay made of the sample webhook. */
export type PostOutcome =
  | { accepted: true; status: number; events: number; receipt: string }
  | {
      accepted: false;
      /** The HTTP status, absent when there was no answer. */
      status?: number;
      /** The relay's answer, `{"error": …}` as a rule. */
      answer?: unknown;
      /** What went wrong, in a line. */
      error: string;
      /** What to do about it, when there is something to say. */
      hint?: string;
    };

/** What the hints name: the source posted to, the config it came from, where the relay was looked for. */
export interface PostContext {
  sourceId: string;
  file: string;
  base: string;
}

/** POSTs the body as the platform would, and reads the relay's answer into an outcome with a hint. */
export async function postSample(endpoint: URL, body: unknown, context: PostContext): Promise<PostOutcome> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(answerTimeoutMs),
    });
  } catch (error) {
    return unanswered(error, context);
  }
  const text = await response.text().catch(() => "");
  let answer: unknown = text;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON: shown as it is, below.
  }
  const fields = (answer ?? {}) as { accepted?: unknown; receipt?: unknown; duplicate?: unknown; error?: unknown };
  const status = response.status;
  if (status === 200 && typeof fields.receipt === "string" && typeof fields.accepted === "number") {
    return { accepted: true, status, events: fields.accepted, receipt: fields.receipt };
  }
  const said = typeof fields.error === "string" ? fields.error : oneLine(text, 200) || "(empty answer)";
  return {
    accepted: false,
    status,
    answer,
    error: `the relay answered ${status}: ${said}`,
    ...hintFor(status, fields, context),
  };
}

function hintFor(status: number, answer: { duplicate?: unknown }, { sourceId, file, base }: PostContext) {
  const restart = `restart the relay after editing ${file}, or pass --config with the file it runs with`;
  if (status === 200 && answer.duplicate === true) {
    return { hint: "the relay took it for a webhook it already has, and queued nothing" };
  }
  if (status === 401) {
    return {
      hint: `the token in ${file} (sources.${sourceId}.urlToken) does not match the running relay's: ${restart}`,
    };
  }
  if (status === 404) {
    return { hint: `the server at ${base} has no source "${sourceId}": is it this relay? ${restart}` };
  }
  if (status === 503) {
    return { hint: "the relay cannot reach its Redis: start Redis, or check redis.url in the relay's config" };
  }
  return {};
}

function unanswered(error: unknown, { base }: PostContext): PostOutcome {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") {
    return {
      accepted: false,
      error: `nothing answers at ${base} (connection refused)`,
      hint: "is the relay running? start it with npm start, or pass --url if it listens elsewhere",
    };
  }
  if ((error as Error).name === "TimeoutError") {
    return {
      accepted: false,
      error: `no answer from ${base} within ${answerTimeoutMs / 1000} s`,
      hint: "is that the relay? its log says why it is slow",
    };
  }
  const reason = cause?.message ?? (error as Error).message;
  return {
    accepted: false,
    error: `cannot post to ${base}: ${reason}`,
    hint: "is the relay running? start it with npm start",
  };
}

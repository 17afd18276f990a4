import type { IncomingHttpHeaders } from "node:http";
import type { Receipt, RelayEvent } from "../events.js";

/** What the HTTP layer knows of a POST before reading its body; nothing Koa-specific. */
export interface WebhookRequest {
  query: Record<string, string | string[] | undefined>;
  headers: IncomingHttpHeaders;
}

/** The same POST once its body is read. */
export interface WebhookRequestWithBody extends WebhookRequest {
  /** The exact bytes received: signatures are computed over these, never over re-serialized JSON. */
  rawBody: Buffer;
}

export type ChallengeAnswer = { ok: true; body: string } | { ok: false; status: 400 | 403; error: string };
export type Authentication =
  | {
      ok: true;
      /**
       * The sender's own id for this message, when it signs one (Standard Webhooks'
       * `webhook-id`): ingest stores a message once per id, so a replay delivers nothing twice.
       */
      messageId?: string;
    }
  | { ok: false; error: string };

/**
 * One adapter per platform. Ingest calls `authenticate`, then reads the body, then
 * `verifyBody` and `validate`, before acknowledging a webhook; workers call `normalize` later
 * on the stored payload. Keeping `normalize` pure means a payload the relay misreads today can
 * be replayed through a fixed adapter tomorrow.
 */
export interface Source {
  readonly id: string;
  readonly type: string;
  /**
   * Take a body that parses as JSON whatever its Content-Type says. For platforms that
   * document no header and keep no copy of what they send (a 415 would lose the event for
   * good); a body that does not parse is still refused.
   */
  readonly jsonWhateverContentType?: boolean;
  /** The GET verification handshake, for platforms that have one. */
  answerChallenge?(query: WebhookRequest["query"]): ChallengeAnswer;
  /**
   * Is this POST from the platform, as far as its URL and headers tell (URL token, signature
   * headers present and fresh)? Asked before the body is read, so a stranger is refused without
   * making the relay read and parse up to bodyLimit.
   */
  authenticate(request: WebhookRequest): Authentication;
  /**
   * For platforms that sign the body: does the signature match these bytes? Asked once the body
   * is read and before it is parsed. Its answer replaces `authenticate`'s, messageId included.
   */
  verifyBody?(request: WebhookRequestWithBody): Authentication;
  /** Checks the platform's envelope and counts its events; throws InvalidPayload when it is not one. */
  validate(body: unknown): { events: number };
  /** The stored payload as normalized events, one per platform event, in payload order. */
  normalize(payload: unknown, receipt: Receipt): RelayEvent[];
}

/** The body is JSON but not this platform's payload: the HTTP layer answers 400 with the message. */
export class InvalidPayload extends Error {
  readonly status = 400;
  readonly expose = true;
}

import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { sameBytes, verifyStandardWebhookSignature } from "../../signing/standard-webhooks.js";
import type { Authentication } from "../source.js";

/**
 * Signature checks over the exact bytes received, compared in constant time.
 *
 * Standard Webhooks (https://www.standardwebhooks.com): the signature itself is checked in
 * signing/standard-webhooks.ts, shared with the HTTP target that signs; here, the headers and
 * the timestamp's freshness. The id lets ingest store each message once.
 *
 * `X-Hub-Signature-256` (GitHub and many others): `sha256=<hex>` HMAC-SHA256 of the body with
 * the secret as-is. It proves who sent the body, not when: a captured request can be replayed.
 * Such senders resend a delivery with the same body (GitHub's redeliver), and the scheme has no
 * id, so the signature is the message's id: ingest stores one signed body once (24 h), as it
 * does a Standard Webhooks id, and a retry or a replay is acknowledged as a duplicate.
 */
export type SignatureScheme = "standard-webhooks" | "x-hub-signature-256";

/** What can be checked before the body arrives: every header there, the timestamp fresh. */
export function checkStandardWebhookHeaders(
  headers: IncomingHttpHeaders,
  toleranceMs: number,
  now = Date.now(),
): Authentication {
  const read = readStandardHeaders(headers, toleranceMs, now);
  return "error" in read ? { ok: false, error: read.error } : { ok: true };
}

export function verifyStandardWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  toleranceMs: number,
  now = Date.now(),
): Authentication {
  const read = readStandardHeaders(headers, toleranceMs, now);
  if ("error" in read) return { ok: false, error: read.error };
  const { id, timestamp, signatures } = read;
  const matches = verifyStandardWebhookSignature(secret, id, timestamp, body, signatures);
  return matches ? { ok: true, messageId: id } : { ok: false, error: "webhook-signature does not match" };
}

function readStandardHeaders(
  headers: IncomingHttpHeaders,
  toleranceMs: number,
  now: number,
): { id: string; timestamp: string; signatures: string } | { error: string } {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    return { error: "missing webhook-id, webhook-timestamp or webhook-signature header" };
  }
  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (Number.isNaN(seconds) || Math.abs(now - seconds * 1000) > toleranceMs) {
    return { error: `webhook-timestamp is not within ${Math.round(toleranceMs / 1000)} s of now` };
  }
  return { id, timestamp, signatures };
}

const missingHubSignature = { ok: false, error: "missing X-Hub-Signature-256: sha256=… header" } as const;

/** What can be checked before the body arrives: the header is there, in its `sha256=` form. */
export function checkHubSignatureHeader(headers: IncomingHttpHeaders): Authentication {
  return header(headers, "x-hub-signature-256")?.startsWith("sha256=") ? { ok: true } : missingHubSignature;
}

export function verifyHubSignature(secret: string, headers: IncomingHttpHeaders, body: Buffer): Authentication {
  const signature = header(headers, "x-hub-signature-256");
  if (!signature?.startsWith("sha256=")) return missingHubSignature;
  const expected = createHmac("sha256", secret).update(body).digest();
  const received = Buffer.from(signature.slice("sha256=".length), "hex");
  if (!sameBytes(expected, received)) return { ok: false, error: "X-Hub-Signature-256 does not match" };
  // The signature as computed, not as received: upper-case hex must not make a second id.
  return { ok: true, messageId: `sha256=${expected.toString("hex")}` };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

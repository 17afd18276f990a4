import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Standard Webhooks (https://www.standardwebhooks.com), both ways: the generic source verifies
 * what senders sign, the HTTP target signs what it sends. One implementation, so the two sides
 * cannot drift apart.
 *
 * The signature is the HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the
 * base64 secret after `whsec_`, sent as `webhook-signature: v1,<base64>`; several signatures,
 * separated by spaces, may be sent while a key is rotated. The timestamp bounds how long a
 * captured request stays usable; the id lets a receiver drop repeats.
 */

export interface StandardWebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

const prefix = "whsec_";

/** `whsec_` and then the key as padded base64, as Standard Webhooks senders show it. */
export function isStandardWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(prefix)) return false;
  const key = secret.slice(prefix.length);
  return key.length > 0 && key.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(key);
}

/** The key bytes; a secret without the prefix is taken as the base64 alone, as senders sometimes show it. */
function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(prefix) ? secret.slice(prefix.length) : secret, "base64");
}

function signatureOf(secret: string, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac("sha256", keyOf(secret)).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The three headers that sign `body` as message `id`, timestamped now. */
export function signedHeaders(
  secret: string,
  id: string,
  body: string | Buffer,
  now = Date.now(),
): StandardWebhookHeaders {
  const timestamp = String(Math.floor(now / 1000));
  const signature = signatureOf(secret, id, timestamp, body).toString("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

/** True when one of the `v1,` signatures in the header signs exactly these bytes. Freshness is the caller's check. */
export function verifyStandardWebhookSignature(
  secret: string,
  id: string,
  timestamp: string,
  body: Buffer,
  signatures: string,
): boolean {
  const expected = signatureOf(secret, id, timestamp, body);
  return signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .some((entry) => sameBytes(expected, Buffer.from(entry.slice(3), "base64")));
}

/**
 * Constant time, so an attacker cannot find a valid signature one byte at a time by timing the
 * answers. timingSafeEqual throws on a length mismatch; a wrong length is simply not a match.
 */
export function sameBytes(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

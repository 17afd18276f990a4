import { firstValue, secretsEqual } from "./secure-compare.js";
import type { Authentication, WebhookRequest } from "./source.js";

/**
 * For platforms that sign nothing (Socialboards, Sonar), a secret in the endpoint URL is what
 * tells their POSTs from anyone else's. No token configured: every POST is accepted.
 */
export function checkUrlToken(expected: string | undefined, query: WebhookRequest["query"]): Authentication {
  if (expected === undefined) return { ok: true };
  return secretsEqual(expected, firstValue(query.token))
    ? { ok: true }
    : { ok: false, error: "missing or wrong token in the URL (?token=…)" };
}

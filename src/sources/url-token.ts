import { firstValue, secretsEqual } from "./secure-compare.js";
import type { Authentication, WebhookRequest } from "./source.js";

/**
 * For platforms that sign nothing (Socialboards, Sonar), a secret in the endpoint URL is what
 * tells their POSTs from anyone else's. No token configured: every POST is accepted.
 */
export function checkUrlToken(expected: string | undefined, query: WebhookRequest["query"]): Authentication {
  if (expected === undefined) return { ok: true };
  const received = firstValue(query.token);
  if (secretsEqual(expected, received)) return { ok: true };
  // Missing and wrong are told apart: a wrong one usually means the token was rotated on one side only.
  return {
    ok: false,
    error: received ? "urlToken does not match (?token=… in the URL)" : "missing token in the URL (?token=…)",
  };
}

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a secret with what a request carried, in time that does not depend on where they
 * differ, so an attacker cannot find a token one character at a time by timing our answers.
 * Hashing first gives equal-length inputs, which timingSafeEqual requires, and hides the length.
 */
export function secretsEqual(expected: string, received: string | undefined): boolean {
  if (received === undefined) return false;
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(received).digest();
  return timingSafeEqual(a, b);
}

/** The first value of a query parameter that may be repeated. */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

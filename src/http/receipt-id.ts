import { randomBytes } from "node:crypto";

let lastMs = 0;
let sequence = 0;

/**
 * A receipt id that sorts in the order this process received its webhooks: a UUID version 7
 * (RFC 9562), its first 48 bits the time in ms, then a 12-bit count within that ms (the RFC's
 * "monotonic random" method), then random bits. Per-ticket order ranks deliveries by the time
 * they were received and, within one ms, by their job ids, which start with the receipt id: with
 * random ids, two webhooks of one ticket received in the same ms went out in a random order.
 * A burst of more than 4,096 in one ms borrows the next ms, so the order still holds.
 */
export function newReceiptId(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else {
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      sequence = 0;
    }
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

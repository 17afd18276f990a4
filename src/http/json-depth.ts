/**
 * How deep a webhook's JSON may nest. Real payloads stay under ten levels (a Socialboards tag
 * inside a ticket inside an event inside the envelope is four). JSON.parse copes with far more,
 * but everything after it walks the payload recursively, one stack frame per level: BullMQ's
 * JSON.stringify when ingest stores it, zod and path reads in the workers. A body nested
 * 100,000 deep parses, then throws RangeError there. 64 leaves real payloads ample room and
 * keeps every later walk far from the stack limit.
 */
export const maxJsonDepth = 64;

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;

/**
 * True when the JSON in `bytes` opens more than `limit` objects or arrays inside each other.
 * One pass over the raw bytes, run before JSON.parse so a hostile body is never built into
 * objects: brackets inside strings do not count, and a backslash-escaped quote does not end a
 * string. Reading bytes is safe for UTF-8, where no byte of a multi-byte character is ASCII.
 * It does not check that the JSON is valid; JSON.parse does that afterwards.
 */
export function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  // Most bodies open fewer brackets in all than the limit, and so cannot nest deeper than it:
  // counting them with the native search is cheaper than the walk below, on every webhook.
  if (openingsAtMost(bytes, limit)) return false;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (inString) {
      if (byte === backslash) index += 1;
      else if (byte === quote) inString = false;
    } else if (byte === quote) {
      inString = true;
    } else if (byte === openBrace || byte === openBracket) {
      depth += 1;
      if (depth > limit) return true;
    } else if ((byte === closeBrace || byte === closeBracket) && depth > 0) {
      depth -= 1;
    }
  }
  return false;
}

/** Whether `bytes` hold at most `limit` bytes that open an object or an array, strings or not. */
function openingsAtMost(bytes: Uint8Array, limit: number): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (const opening of [openBrace, openBracket]) {
    for (let at = buffer.indexOf(opening); at !== -1; at = buffer.indexOf(opening, at + 1)) {
      count += 1;
      if (count > limit) return false;
    }
  }
  return true;
}

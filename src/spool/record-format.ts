import { crc32 } from "node:zlib";

/**
 * The bytes of a spool segment file. A segment starts with an 8-byte magic, then holds records
 * one after the other, each:
 *
 *   length  uint32 BE   bytes of the body that follows (at least 1)
 *   crc     uint32 BE   CRC-32 of the length bytes and the body
 *   body    length bytes
 *
 * A crash can leave the last record half-written (a torn tail), and a disk can flip a bit. The
 * checksum covers the length too, so a damaged length cannot make garbage look like a record;
 * the reader keeps every record before the damage and looks for the next intact record after
 * it, so one bad record costs that record, not the segment.
 */
export const segmentMagic = Buffer.from("TRSPOOL1", "latin1");
export const segmentHeaderBytes = segmentMagic.length;
export const recordHeaderBytes = 8;
/** No record is larger: a length beyond it is damage, not a record. Far above any body limit. */
export const maxRecordBodyBytes = 256 * 1024 * 1024;

export function encodeRecord(body: Buffer): Buffer {
  if (body.length < 1 || body.length > maxRecordBodyBytes) {
    throw new RangeError(`a spool record holds 1 to ${maxRecordBodyBytes} bytes, not ${body.length}`);
  }
  const record = Buffer.allocUnsafe(recordHeaderBytes + body.length);
  record.writeUInt32BE(body.length, 0);
  body.copy(record, recordHeaderBytes);
  record.writeUInt32BE(checksum(record, body.length), 4);
  return record;
}

function checksum(record: Buffer, bodyLength: number): number {
  const lengthCrc = crc32(record.subarray(0, 4));
  return crc32(record.subarray(recordHeaderBytes, recordHeaderBytes + bodyLength), lengthCrc);
}

/** One intact record: its body, where it starts in the segment and where the next one starts. */
export interface SpoolRecord {
  body: Buffer;
  offset: number;
  end: number;
}

/** Bytes that are no record: a torn tail, or damage the reader stepped over. */
export interface SkippedBytes {
  offset: number;
  bytes: number;
}

export interface DecodedRecords {
  records: SpoolRecord[];
  skipped: SkippedBytes[];
}

/**
 * Decodes every record in `bytes`, a segment's bytes from `baseOffset` to a point known to be
 * complete (the end of the file, or what the writer has fsynced). A record cut short at the end
 * is a torn tail; a record whose checksum fails is damage. Either is reported in `skipped` and
 * decoding goes on at the next intact record, found by its own length and checksum.
 */
export function decodeRecords(bytes: Buffer, baseOffset = 0): DecodedRecords {
  const records: SpoolRecord[] = [];
  const skipped: SkippedBytes[] = [];
  let damagedFrom: number | undefined;
  let at = 0;
  while (at < bytes.length) {
    const length = bytes.length - at >= recordHeaderBytes ? bytes.readUInt32BE(at) : 0;
    const fits = length >= 1 && length <= maxRecordBodyBytes && at + recordHeaderBytes + length <= bytes.length;
    const record = fits ? bytes.subarray(at, at + recordHeaderBytes + length) : undefined;
    if (record && record.readUInt32BE(4) === checksum(record, length)) {
      if (damagedFrom !== undefined) skipped.push({ offset: baseOffset + damagedFrom, bytes: at - damagedFrom });
      damagedFrom = undefined;
      records.push({
        body: record.subarray(recordHeaderBytes),
        offset: baseOffset + at,
        end: baseOffset + at + record.length,
      });
      at += record.length;
    } else {
      // Damage: step one byte on and look for the next intact record.
      damagedFrom ??= at;
      at += 1;
    }
  }
  if (damagedFrom !== undefined) skipped.push({ offset: baseOffset + damagedFrom, bytes: bytes.length - damagedFrom });
  return { records, skipped };
}

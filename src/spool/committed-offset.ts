import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { OpenSpoolFile } from "./segment-files.js";

/**
 * How far the spool has been drained into Redis: every record before `offset` in segment
 * `segment`, and every record of an earlier segment, is in Redis. Segment `segment` may not
 * exist yet (offset 0 then means "from its start").
 */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

/**
 * The committed position, in a small file of two 32-byte slots written in turn, each with a
 * generation number and a checksum: a write cut short by a crash damages only the slot being
 * written, and the other still holds the position before it. Reading takes the intact slot
 * with the higher generation. Lagging behind is safe (records are added to Redis again and
 * recognised there by their receipt id); running ahead would lose records, so the position is
 * written only after Redis answered.
 *
 * Both slots are written out when the file is opened, so the file holds its disk space from
 * then on and every commit overwrites bytes already allocated: draining needs no new space, and
 * a disk filled by the spool's own segments cannot stop the drain that frees it. (A
 * copy-on-write filesystem, btrfs or ZFS, needs space for any write; keep headroom there.)
 */
export class CommittedOffset {
  #generation: number;
  #position: SpoolPosition;

  private constructor(
    private readonly handle: FileHandle,
    generation: number,
    position: SpoolPosition,
  ) {
    this.#generation = generation;
    this.#position = position;
  }

  static async open(dir: string, openFile: OpenSpoolFile = open): Promise<CommittedOffset> {
    const path = join(dir, "committed");
    const handle = await openFile(path, "a+");
    const bytes = Buffer.alloc(fileBytes);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
    const slots = [readSlot(bytes.subarray(0, slotBytes)), readSlot(bytes.subarray(slotBytes))];
    const newest = slots.filter((slot) => slot !== undefined).sort((a, b) => b.generation - a.generation)[0];
    await handle.close();
    // "a+" appends whatever position is given; slots are written in place, so reopen as r+.
    const writable = await openFile(path, "r+");
    try {
      if (bytesRead < fileBytes) await reserve(writable, bytes);
    } catch (error) {
      await writable.close();
      throw new Error(
        `cannot reserve the spool's committed file ${path} (${fileBytes} bytes): ${(error as Error).message}; free space on the spool's disk and start again`,
        { cause: error },
      );
    }
    return new CommittedOffset(writable, newest?.generation ?? 0, newest?.position ?? { segment: 0, offset: 0 });
  }

  get position(): SpoolPosition {
    return this.#position;
  }

  /** Makes `position` the committed one, on disk (fsynced) before it resolves. */
  async commit(position: SpoolPosition): Promise<void> {
    const generation = this.#generation + 1;
    const slot = Buffer.alloc(slotBytes);
    slot.writeUInt32BE(generation >>> 0, 0);
    slot.writeUInt32BE(Math.floor(generation / 2 ** 32), 4);
    slot.writeUInt32BE(position.segment, 8);
    slot.writeDoubleBE(position.offset, 12);
    slot.writeUInt32BE(crc32(slot.subarray(0, 20)), 20);
    await this.handle.write(slot, 0, slotBytes, (generation % 2) * slotBytes);
    await this.handle.datasync();
    this.#generation = generation;
    this.#position = { ...position };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

const slotBytes = 32;
const fileBytes = slotBytes * 2;

/**
 * Writes the whole file, the bytes it already had and zeros after them (a zeroed slot reads as
 * empty), and fsyncs it: the disk space of both slots is taken now.
 */
async function reserve(handle: FileHandle, bytes: Buffer): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += (await handle.write(bytes, written, bytes.length - written, written)).bytesWritten;
  }
  await handle.datasync();
}

function readSlot(slot: Buffer): { generation: number; position: SpoolPosition } | undefined {
  if (slot.readUInt32BE(20) !== crc32(slot.subarray(0, 20))) return undefined;
  const generation = slot.readUInt32BE(0) + slot.readUInt32BE(4) * 2 ** 32;
  if (generation === 0) return undefined;
  return { generation, position: { segment: slot.readUInt32BE(8), offset: slot.readDoubleBE(12) } };
}

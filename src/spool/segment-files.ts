import { type FileHandle, open, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { segmentHeaderBytes, segmentMagic } from "./record-format.js";

/**
 * The spool directory holds numbered segment files, appended to one at a time and deleted
 * whole once everything in them is in Redis. Numbers only grow, so their order is the order
 * webhooks were accepted in.
 */
export interface SegmentFile {
  seq: number;
  path: string;
  /** Bytes in the file, its header included. */
  size: number;
}

/**
 * How the spool opens the files it writes (segments and the committed position): node's `open`,
 * or in a test one whose disk fills up, since a full disk is what these files must survive.
 */
export type OpenSpoolFile = (path: string, flags: "a+" | "r+" | "wx") => Promise<FileHandle>;

const segmentPattern = /^segment-(\d{12})\.spool$/;

export function segmentPath(dir: string, seq: number): string {
  return join(dir, `segment-${String(seq).padStart(12, "0")}.spool`);
}

/** The segments in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const segments: SegmentFile[] = [];
  for (const name of await readdir(dir)) {
    const match = segmentPattern.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    segments.push({ seq: Number(match[1]), path, size: (await stat(path)).size });
  }
  return segments.sort((a, b) => a.seq - b.seq);
}

/**
 * Creates segment `seq` with its header, both on disk before it is used: the file's own
 * fsync comes with the first records, the directory's fsync makes the new name durable. A
 * segment that cannot be created (a full disk) is removed again: each refused write would
 * otherwise leave an empty file behind.
 */
export async function createSegment(dir: string, seq: number, openFile: OpenSpoolFile = open): Promise<FileHandle> {
  const path = segmentPath(dir, seq);
  const handle = await openFile(path, "wx");
  try {
    await handle.write(segmentMagic, 0, segmentMagic.length, 0);
    await handle.datasync();
    await fsyncDirectory(dir);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    // If even this fails, the next start deletes the header-less file (spool.ts, #recover).
    await unlink(path).catch(() => undefined);
    throw error;
  }
}

/** A created, renamed or deleted file survives a power cut only once its directory is fsynced. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The bytes of a segment from `from` to `to`; fewer when the file is shorter. */
export async function readSegmentRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(Math.max(0, to - from));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, from + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** Whether a segment starts with the spool's magic; a file cut short at creation does not. */
export async function hasSegmentHeader(path: string): Promise<boolean> {
  const header = await readSegmentRange(path, 0, segmentHeaderBytes);
  return header.equals(segmentMagic);
}

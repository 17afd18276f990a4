import { mkdir, open, stat, unlink } from "node:fs/promises";
import type { Logger } from "../log.js";
import { CommittedOffset, type SpoolPosition } from "./committed-offset.js";
import { decodeRecords, type SkippedBytes, type SpoolRecord, segmentHeaderBytes } from "./record-format.js";
import { hasSegmentHeader, listSegments, type OpenSpoolFile, readSegmentRange, segmentPath } from "./segment-files.js";
import { SpoolDirectoryLock } from "./spool-lock.js";
import { SpoolWriter } from "./spool-writer.js";

/** The spool is at `maxBytes`: the webhook cannot be written to it. */
export class SpoolFull extends Error {
  override name = "SpoolFull";
}

export interface SpoolSettings {
  dir: string;
  maxBytes: number;
  /** Past this a segment takes no more records (default 8 MB, or an eighth of maxBytes if smaller). */
  segmentBytes?: number;
  /** How the spool's files are opened for writing (node's `open`); tests pass a disk that fills up. */
  openFile?: OpenSpoolFile;
}

/** Records in the spool that are not yet in Redis. */
export interface SpoolDepth {
  records: number;
  bytes: number;
}

/** A record read back for draining, with the segment it is in. */
export interface DrainableRecord extends SpoolRecord {
  segment: number;
}

/**
 * A local, append-only store for webhooks Redis cannot take right now: records are appended
 * and fsynced (spool-writer.ts), read back in order from the committed position, and the
 * position moves on (committed-offset.ts) only once Redis holds them. A segment is deleted once
 * it is drained. One process owns a directory at a time (spool-lock.ts).
 */
export class Spool {
  #depth: SpoolDepth = { records: 0, bytes: 0 };
  /** Bytes of segment files on disk: what maxBytes bounds. */
  #diskBytes = 0;
  /** Segments not yet deleted, oldest first. */
  readonly #segments: number[] = [];
  readonly #reportedSkips = new Set<string>();
  readonly #listeners = new Set<() => void>();
  readonly #writer: SpoolWriter;

  private constructor(
    private readonly settings: Required<SpoolSettings>,
    private readonly committed: CommittedOffset,
    private readonly lock: SpoolDirectoryLock,
    private readonly logger: Logger,
    firstSeq: number,
  ) {
    this.#writer = new SpoolWriter(settings.dir, {
      firstSeq,
      segmentBytes: settings.segmentBytes,
      openFile: settings.openFile,
      onSegment: (seq) => {
        this.#segments.push(seq);
        this.#diskBytes += segmentHeaderBytes;
      },
      onDurable: (count, bytes) => {
        // Counted before the appends are answered: the drainer may take them at once.
        this.#diskBytes += bytes;
        this.#depth.records += count;
        this.#depth.bytes += bytes;
        for (const listener of this.#listeners) listener();
      },
    });
  }

  /** Opens (and creates) the spool directory, counting what an earlier run left in it. */
  static async open(settings: SpoolSettings, logger: Logger): Promise<Spool> {
    const segmentBytes = settings.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, settings.maxBytes / 8));
    await mkdir(settings.dir, { recursive: true });
    const lock = await SpoolDirectoryLock.take(settings.dir);
    try {
      const openFile = settings.openFile ?? open;
      const committed = await CommittedOffset.open(settings.dir, openFile);
      const segments = await listSegments(settings.dir);
      const last = segments.at(-1)?.seq ?? 0;
      const firstSeq = Math.max(last + 1, committed.position.segment);
      const spool = new Spool({ ...settings, segmentBytes, openFile }, committed, lock, logger, firstSeq);
      await spool.#recover(segments);
      return spool;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  async #recover(segments: Awaited<ReturnType<typeof listSegments>>): Promise<void> {
    const { segment: from, offset } = this.committed.position;
    for (const segment of segments) {
      // Drained before the last run ended; only its deletion was cut short.
      if (segment.seq < from || !(await hasSegmentHeader(segment.path))) {
        await unlink(segment.path);
        continue;
      }
      this.#segments.push(segment.seq);
      this.#diskBytes += segment.size;
      const start = segment.seq === from ? Math.max(offset, segmentHeaderBytes) : segmentHeaderBytes;
      const { records, skipped } = decodeRecords(await readSegmentRange(segment.path, start, segment.size), start);
      this.#depth.records += records.length;
      for (const record of records) this.#depth.bytes += record.end - record.offset;
      this.#reportSkipped(segment.seq, skipped);
    }
    if (this.#depth.records > 0) {
      this.logger.info(
        { ...this.#depth, dir: this.settings.dir },
        "spool holds webhooks from an earlier run; draining them into Redis",
      );
    }
  }

  get depth(): SpoolDepth {
    return { ...this.#depth };
  }

  /** True while records wait to be drained, or are being written. */
  holdsRecords(): boolean {
    return this.#depth.records > 0 || this.#writer.pendingAppends > 0;
  }

  /** Calls `listener` whenever records become durable (the drainer waits on it). */
  onAppended(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once `body` is fsynced into the spool; rejects with SpoolFull past maxBytes. */
  async append(body: Buffer): Promise<void> {
    const needed = this.#diskBytes + this.#writer.pendingBytes + body.length + 8 + segmentHeaderBytes;
    if (needed > this.settings.maxBytes) {
      throw new SpoolFull(`the spool at ${this.settings.dir} is full (spool.maxBytes ${this.settings.maxBytes} bytes)`);
    }
    await this.#writer.append(body);
  }

  /**
   * The next records to drain, in order, from the committed position: the rest of the oldest
   * segment that has any. Segments that are fully drained are deleted on the way; the active
   * one is closed and deleted once it is drained and nothing is being written to it.
   */
  async nextRecords(): Promise<DrainableRecord[]> {
    for (;;) {
      const seq = this.#segments[0];
      if (seq === undefined) return [];
      const position = this.committed.position;
      const start = seq === position.segment ? Math.max(position.offset, segmentHeaderBytes) : segmentHeaderBytes;
      const active = this.#writer.active;
      const path = segmentPath(this.settings.dir, seq);
      const limit = active?.seq === seq ? active.size : (await stat(path)).size;
      if (start < limit) {
        const { records, skipped } = decodeRecords(await readSegmentRange(path, start, limit), start);
        this.#reportSkipped(seq, skipped);
        if (records.length > 0) return records.map((record) => ({ ...record, segment: seq }));
        await this.committed.commit({ segment: seq, offset: limit });
        continue;
      }
      const drained = active?.seq === seq ? await this.#writer.sealIfDrained(seq, limit) : true;
      if (!drained) return [];
      await this.#deleteSegment(seq, path);
    }
  }

  /** Records up to and including `last` are in Redis: move the committed position past them. */
  async drained(records: DrainableRecord[]): Promise<void> {
    const last = records.at(-1);
    if (!last) return;
    await this.committed.commit({ segment: last.segment, offset: last.end });
    this.#depth.records -= records.length;
    for (const record of records) this.#depth.bytes -= record.end - record.offset;
  }

  async #deleteSegment(seq: number, path: string): Promise<void> {
    const size = (await stat(path)).size;
    // The position moves first: a crash between the two leaves a file recovery deletes.
    const next: SpoolPosition = { segment: seq + 1, offset: 0 };
    await this.committed.commit(next);
    await unlink(path);
    this.#segments.shift();
    this.#diskBytes = Math.max(0, this.#diskBytes - size);
  }

  #reportSkipped(seq: number, skipped: SkippedBytes[]): void {
    for (const { offset, bytes } of skipped) {
      const key = `${seq}:${offset}`;
      if (this.#reportedSkips.has(key)) continue;
      this.#reportedSkips.add(key);
      this.logger.warn(
        { segment: seq, offset, bytes, dir: this.settings.dir },
        "spool: bytes that are no intact record (a write cut short by a crash, or damage) skipped; the records around them are kept",
      );
    }
  }

  /** Waits for appends under way, then lets the directory go. Records not yet drained stay for the next start. */
  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#writer.close();
    await this.committed.close();
    await this.lock.release();
  }
}

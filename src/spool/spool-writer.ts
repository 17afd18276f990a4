import type { FileHandle } from "node:fs/promises";
import { encodeRecord } from "./record-format.js";
import { createSegment, type OpenSpoolFile } from "./segment-files.js";

/** Where an appended record ended up. */
export interface AppendedRecord {
  segment: number;
  offset: number;
  end: number;
}

interface PendingAppend {
  record: Buffer;
  resolve(where: AppendedRecord): void;
  reject(error: Error): void;
}

/**
 * Appends records to the newest segment and fsyncs them before an append resolves. Appends
 * that arrive while a write and fsync are under way are written together by the next one
 * (group commit): one fsync for many webhooks, each still answered only once its bytes are on
 * disk. Writes and seals run one at a time, in order.
 */
export class SpoolWriter {
  #active: { seq: number; handle: FileHandle; size: number } | undefined;
  #pending: PendingAppend[] = [];
  #pendingBytes = 0;
  /** Appends given and not yet answered, including those being written now. */
  #unanswered = 0;
  #flushScheduled = false;
  #chain: Promise<unknown> = Promise.resolve();
  #nextSeq: number;

  constructor(
    private readonly dir: string,
    private readonly options: {
      firstSeq: number;
      /** A segment that has grown past this takes no more records; the next one starts. */
      segmentBytes: number;
      /** Called once `count` appended records, `bytes` in all, are on disk. */
      onDurable: (count: number, bytes: number) => void;
      /** Called when a new segment file is created. */
      onSegment: (seq: number) => void;
      openFile?: OpenSpoolFile;
    },
  ) {
    this.#nextSeq = options.firstSeq;
  }

  /** Bytes given to `append` and not yet on disk. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get pendingAppends(): number {
    return this.#unanswered;
  }

  /** The segment being appended to and how far it is durable, if there is one. */
  get active(): { seq: number; size: number } | undefined {
    return this.#active && { seq: this.#active.seq, size: this.#active.size };
  }

  /** Resolves once `body` is on disk in a record, rejects when it could not be written. */
  append(body: Buffer): Promise<AppendedRecord> {
    const record = encodeRecord(body);
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, resolve, reject });
      this.#pendingBytes += record.length;
      this.#unanswered += 1;
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#chain = this.#chain.then(() => this.#flush());
      }
    });
  }

  /**
   * Closes the active segment if it is `seq`, everything in it has been drained up to `size`,
   * and nothing waits to be written: the drainer may then delete it. Runs between two writes.
   */
  sealIfDrained(seq: number, size: number): Promise<boolean> {
    const sealing = this.#chain.then(async () => {
      const active = this.#active;
      if (!active || active.seq !== seq || active.size !== size || this.#pending.length > 0) return false;
      this.#active = undefined;
      await active.handle.close();
      return true;
    });
    this.#chain = sealing.catch(() => undefined);
    return sealing;
  }

  /** Waits for appends under way, then closes the active segment. */
  async close(): Promise<void> {
    await this.#chain;
    const active = this.#active;
    this.#active = undefined;
    await active?.handle.close();
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const bytes = batch.reduce((sum, append) => sum + append.record.length, 0);
    let writeUndone = false;
    try {
      const active = await this.#segmentWithRoom();
      const start = active.size;
      let written = 0;
      const buffer =
        batch.length === 1 ? (batch[0] as PendingAppend).record : Buffer.concat(batch.map((a) => a.record));
      try {
        while (written < buffer.length) {
          const { bytesWritten } = await active.handle.write(buffer, written, buffer.length - written, start + written);
          written += bytesWritten;
        }
      } catch (error) {
        // A write the disk refused (ENOSPC: full) is cut back off, which needs no space: the
        // segment again ends at its last durable record and takes the next records, where a new
        // segment per refused write would leave a file behind each time.
        writeUndone = await active.handle.truncate(start).then(
          () => true,
          () => false,
        );
        throw error;
      }
      await active.handle.datasync();
      active.size += buffer.length;
      this.#pendingBytes -= bytes;
      this.#unanswered -= batch.length;
      this.options.onDurable(batch.length, bytes);
      let offset = start;
      for (const append of batch) {
        append.resolve({ segment: active.seq, offset, end: offset + append.record.length });
        offset += append.record.length;
      }
    } catch (error) {
      this.#pendingBytes -= bytes;
      this.#unanswered -= batch.length;
      // After a failed fsync (or a failed write not cut back off) the file's tail is unknown:
      // later records go to a new segment, and the reader skips whatever half-record this one
      // ends with.
      if (!writeUndone) {
        const broken = this.#active;
        this.#active = undefined;
        await broken?.handle.close().catch(() => undefined);
      }
      for (const append of batch) append.reject(error as Error);
    }
  }

  async #segmentWithRoom() {
    const active = this.#active;
    if (active && active.size < this.options.segmentBytes) return active;
    if (active) {
      this.#active = undefined;
      await active.handle.close();
    }
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    const handle = await createSegment(this.dir, seq, this.options.openFile);
    const created = { seq, handle, size: (await handle.stat()).size };
    this.#active = created;
    this.options.onSegment(seq);
    return created;
  }
}

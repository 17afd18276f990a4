import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { decodeRecords, encodeRecord, recordHeaderBytes } from "../src/spool/record-format.js";
import { Spool } from "../src/spool/spool.js";

const records = (...texts: string[]) => Buffer.concat(texts.map((text) => encodeRecord(Buffer.from(text))));
const flipByte = (bytes: Buffer, at: number) => bytes.writeUInt8((bytes[at] ?? 0) ^ 0xff, at);
const texts = (bytes: Buffer) => decodeRecords(bytes).records.map((record) => record.body.toString());

describe("the spool's record format", () => {
  it("reads back every record written, in order", () => {
    const bytes = records("one", "two", "three");
    expect(texts(bytes)).toEqual(["one", "two", "three"]);
    expect(decodeRecords(bytes).skipped).toEqual([]);
  });

  it("skips a torn tail and keeps every record before it", () => {
    const whole = records("one", "two", "three");
    for (let cut = 1; cut < encodeRecord(Buffer.from("three")).length; cut++) {
      const torn = whole.subarray(0, whole.length - cut);
      const { records: kept, skipped } = decodeRecords(torn);
      expect(kept.map((record) => record.body.toString())).toEqual(["one", "two"]);
      expect(skipped).toEqual([{ offset: kept.at(-1)?.end, bytes: torn.length - (kept.at(-1)?.end ?? 0) }]);
    }
  });

  it("skips a record whose checksum fails and keeps the records before and after it", () => {
    const bytes = records("one", "two", "three");
    const second = encodeRecord(Buffer.from("one")).length;
    flipByte(bytes, second + recordHeaderBytes); // in the body of "two"
    const { skipped } = decodeRecords(bytes);
    expect(texts(bytes)).toEqual(["one", "three"]);
    expect(skipped).toEqual([{ offset: second, bytes: encodeRecord(Buffer.from("two")).length }]);
  });

  it("does not take a damaged length for a record", () => {
    const bytes = records("one", "two");
    bytes.writeUInt32BE(2, 0); // "one" now claims two bytes; its checksum covers the length
    expect(texts(bytes)).toEqual(["two"]);
  });

  it("reads zeros (a file extended but never written) as no record", () => {
    const bytes = Buffer.concat([records("one"), Buffer.alloc(64)]);
    expect(texts(bytes)).toEqual(["one"]);
    expect(decodeRecords(bytes).skipped).toEqual([{ offset: encodeRecord(Buffer.from("one")).length, bytes: 64 }]);
  });
});

describe("the spool on disk", () => {
  const dirs: string[] = [];
  const logs: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: {
      write: (line: string) => {
        logs.push(line);
        return true;
      },
    } as unknown as NodeJS.WritableStream,
  });
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-spool-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const drainAll = async (spool: Spool) => {
    const drained: string[] = [];
    for (;;) {
      const next = await spool.nextRecords();
      if (next.length === 0) return drained;
      drained.push(...next.map((record) => record.body.toString()));
      await spool.drained(next);
    }
  };

  it("keeps records across a restart until they are drained, then deletes the segment", async () => {
    const dir = newDir();
    const first = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    await Promise.all(["a", "b", "c"].map((text) => first.append(Buffer.from(text))));
    expect(first.depth.records).toBe(3);
    await first.close();

    const second = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    expect(second.depth).toEqual({ records: 3, bytes: 3 * (recordHeaderBytes + 1) });
    const [a] = await second.nextRecords();
    await second.drained(a ? [a] : []);
    await second.close();

    const third = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    expect(await drainAll(third)).toEqual(["b", "c"]);
    expect(third.depth).toEqual({ records: 0, bytes: 0 });
    expect(third.holdsRecords()).toBe(false);
    await third.close();
    expect(readdirSync(dir).filter((name) => name.startsWith("segment-"))).toEqual([]);
  });

  it("after a crash mid-write, keeps the records before the torn one and appends after it", async () => {
    const dir = newDir();
    const first = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    await first.append(Buffer.from("before-1"));
    await first.append(Buffer.from("before-2"));
    await first.close();
    const [segment] = readdirSync(dir).filter((name) => name.startsWith("segment-"));
    const path = join(dir, segment ?? "");
    // The crash: half of a third record reached the disk.
    appendFileSync(path, encodeRecord(Buffer.from("torn record")).subarray(0, 10));

    const second = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    expect(second.depth.records).toBe(2);
    expect(logs.some((line) => line.includes("no intact record"))).toBe(true);
    await second.append(Buffer.from("after"));
    expect(await drainAll(second)).toEqual(["before-1", "before-2", "after"]);
    await second.close();
  });

  it("refuses records past maxBytes, and takes them again once drained", async () => {
    const dir = newDir();
    const spool = await Spool.open({ dir, maxBytes: 4096, segmentBytes: 1024 }, logger);
    const body = Buffer.alloc(500, "x");
    let refused = 0;
    for (let i = 0; i < 10; i++) await spool.append(body).catch(() => (refused += 1));
    expect(refused).toBeGreaterThan(0);
    const onDisk = readdirSync(dir)
      .filter((name) => name.startsWith("segment-"))
      .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(onDisk).toBeLessThanOrEqual(4096);
    expect((await drainAll(spool)).length).toBe(10 - refused);
    await spool.append(body);
    expect(spool.depth.records).toBe(1);
    await spool.close();
  });

  it("falls back to the older committed position when the last write of it was torn", async () => {
    const dir = newDir();
    const spool = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    for (const text of ["a", "b", "c"]) await spool.append(Buffer.from(text));
    const [a, b] = await spool.nextRecords();
    await spool.drained(a ? [a] : []);
    await spool.drained(b ? [b] : []);
    await spool.close();
    // Damage the newer of the two slots: the position falls back to the one before it ("b" again).
    const committed = readFileSync(join(dir, "committed"));
    const newer = committed.readUInt32BE(0) > committed.readUInt32BE(32) ? 0 : 32;
    flipByte(committed, newer + 10);
    writeFileSync(join(dir, "committed"), committed);
    const reopened = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    expect(await drainAll(reopened)).toEqual(["b", "c"]);
    await reopened.close();
  });

  it("is owned by one process at a time", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "lock"), String(process.ppid));
    await expect(Spool.open({ dir, maxBytes: 1024 * 1024 }, logger)).rejects.toThrow(/in use by process/);
    // A lock left by a process that is gone is taken over.
    writeFileSync(join(dir, "lock"), "999999999");
    const spool = await Spool.open({ dir, maxBytes: 1024 * 1024 }, logger);
    await spool.close();
  });
});

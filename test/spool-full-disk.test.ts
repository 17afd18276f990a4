import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { appendFile, open, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { fieldMap, type StreamEntry, WebhookStream } from "../src/queue/inbound/webhook-stream.js";
import { relayKeys } from "../src/queue/queues.js";
import { createIngestConnection } from "../src/redis/connections.js";
import { segmentHeaderBytes } from "../src/spool/record-format.js";
import type { OpenSpoolFile } from "../src/spool/segment-files.js";
import { Spool } from "../src/spool/spool.js";
import { SpoolDrainer } from "../src/spool/spool-drainer.js";
import { encodeSpooledWebhook } from "../src/spool/spooled-webhook.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

/**
 * A disk of `capacity` bytes holding `dir`, at the seam the spool writes through: a write that
 * would grow the files in `dir` past it writes what fits, then fails with ENOSPC, as a full
 * filesystem does. Overwriting bytes a file already has takes no space; a deleted or truncated
 * file gives its bytes back. `fillUp` takes the last free byte, as another program's file would.
 */
function simulatedDisk(dir: string, capacity: number): { openFile: OpenSpoolFile; fillUp(): Promise<void> } {
  const used = async () => {
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
    return bytes;
  };
  const fillUp = async () => appendFile(join(dir, "other-program.log"), Buffer.alloc(capacity - (await used())));
  const openFile: OpenSpoolFile = async (path, flags) => {
    const handle = await open(path, flags);
    const write = handle.write.bind(handle) as (
      buffer: Buffer,
      offset: number,
      length: number,
      position: number,
    ) => Promise<{ bytesWritten: number; buffer: Buffer }>;
    const limitedWrite = async (buffer: Buffer, offset: number, length: number, position: number) => {
      const size = (await handle.stat()).size;
      const fits = Math.max(0, Math.min(length, size + capacity - (await used()) - position));
      if (fits === 0 && length > 0) {
        const error = new Error(`ENOSPC: no space left on device, write '${path}'`);
        throw Object.assign(error, { code: "ENOSPC", errno: -28, syscall: "write" });
      }
      return write(buffer, offset, fits, position);
    };
    return Object.assign(handle, { write: limitedWrite });
  };
  return { openFile, fillUp };
}

const logger = createLogger({ level: "silent" });
const payload = { Ticket: { Id: 1, Title: "Cat is ill" }, padding: "x".repeat(400) };
const spooledWebhook = (id: string) =>
  encodeSpooledWebhook({ receipt: { id, source: "socialboards", receivedAt: new Date().toISOString() }, payload });
const segmentFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.startsWith("segment-"))
    .map((name) => ({ name, size: statSync(join(dir, name)).size }));

/** Appends webhooks `first`, `first + 1`, … until the disk has refused `refusals` of them. */
async function appendUntilRefused(spool: Spool, refusals: number, first = 0) {
  const spooled: string[] = [];
  const refused: string[] = [];
  for (let i = first; refused.length < refusals && i < first + 10_000; i++) {
    await spool.append(spooledWebhook(`r${i}`)).then(
      () => spooled.push(`r${i}`),
      (error: NodeJS.ErrnoException) => refused.push(error.code ?? error.message),
    );
  }
  return { spooled, refused };
}

describe("a spool whose disk is full (ENOSPC at the spool's file seam)", () => {
  const redis = useRedis();
  const dirs: string[] = [];
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-spool-full-disk-"));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    // Redis is stopped on purpose below; the refused reconnects are expected.
    redis.client.on("error", () => undefined);
  });
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("leaves no file behind for a write the disk refused, and takes writes again once drained", async () => {
    const dir = newDir();
    const disk = simulatedDisk(dir, 16 * 1024);
    const spool = await Spool.open({ dir, maxBytes: 1024 ** 3, segmentBytes: 4096, openFile: disk.openFile }, logger);
    const { spooled } = await appendUntilRefused(spool, 1);
    await disk.fillUp();
    const full = segmentFiles(dir);

    const { refused } = await appendUntilRefused(spool, 20, 1000);
    expect(refused).toEqual(Array(20).fill("ENOSPC"));
    expect(segmentFiles(dir)).toEqual(full);
    expect(full.every((file) => file.size > segmentHeaderBytes)).toBe(true);

    // Draining on the full disk frees it: the position is written in place, in space it holds.
    const drained: string[] = [];
    for (let next = await spool.nextRecords(); next.length > 0; next = await spool.nextRecords()) {
      drained.push(
        ...next.map((record) => (JSON.parse(record.body.toString()) as { receipt: { id: string } }).receipt.id),
      );
      await spool.drained(next);
    }
    expect(drained).toEqual(spooled);
    await spool.append(spooledWebhook("after"));
    expect(spool.depth.records).toBe(1);
    await spool.close();
  });

  it("moves every spooled webhook into the stream once Redis is back, with the disk still full", async () => {
    const dir = newDir();
    const prefix = uniquePrefix();
    const disk = simulatedDisk(dir, 48 * 1024);
    const spool = await Spool.open(
      { dir, maxBytes: 1024 ** 3, segmentBytes: 16 * 1024, openFile: disk.openFile },
      logger,
    );
    const connection = createIngestConnection(redis.url);
    connection.on("error", () => undefined);
    const drainer = new SpoolDrainer(spool, new WebhookStream(connection, relayKeys(prefix)), connection, logger, {
      batchSize: 20,
    });
    try {
      await waitFor(() => connection.status === "ready", { what: "ingest's connection" });
      drainer.start();
      await redis.stop();
      const { spooled, refused } = await appendUntilRefused(spool, 5);
      await disk.fillUp();
      expect(spooled.length).toBeGreaterThan(60); // several batches
      expect(refused).toEqual(Array(5).fill("ENOSPC"));

      await redis.start();
      const inStream = async () => {
        const entries = (await redis.client.xrange(relayKeys(prefix).webhooks, "-", "+")) as StreamEntry[];
        return new Set(entries.map(([, fields]) => String(fieldMap(fields).receipt)));
      };
      const missingFrom = (stream: Set<string>) => spooled.filter((id) => !stream.has(id));
      await waitFor(async () => missingFrom(await inStream()).length === 0, {
        what: "every spooled webhook in the stream",
        timeoutMs: 15_000,
      });
      await waitFor(() => spool.depth.records === 0, { what: "the spool to be empty" });
      await waitFor(() => segmentFiles(dir).length === 0, { what: "drained segments to be deleted" });
    } finally {
      await drainer.close();
      await spool.close();
      connection.disconnect();
    }
  }, 30_000);
});

/** Appends to `path` until the filesystem has no page left. */
function fillUp(path: string): void {
  try {
    for (;;) appendFileSync(path, Buffer.alloc(4096));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
}

/** A real 1 MB filesystem, where the process may mount one (root with CAP_SYS_ADMIN). */
function mountSmallDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "relay-spool-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const tmpfsDir = process.getuid?.() === 0 ? mountSmallDisk() : undefined;

describe.skipIf(!tmpfsDir)("a relay whose spool is on a full 1 MB tmpfs", () => {
  const dir = join(tmpfsDir ?? "", "spool");
  const statusChange = readFileSync(
    new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url),
    "utf8",
  );
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
spool: { dir: "${dir}", maxBytes: 1gb }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`);
  });
  afterAll(async () => {
    await relay?.close();
    await sink?.close();
    if (tmpfsDir) {
      execFileSync("umount", [tmpfsDir]);
      rmSync(tmpfsDir, { recursive: true, force: true });
    }
  });

  it("answers 503 once the disk is full, leaves no empty file, and delivers every 200 once Redis is back", async () => {
    await redis.stop();
    const accepted: string[] = [];
    let refused = 0;
    for (let i = 0; refused < 10 && i < 2000; i++) {
      // Half-way, the disk's last free page goes to another program's file.
      if (refused === 5) fillUp(join(tmpfsDir ?? "", "other-program.log"));
      const title = `full disk ${i}`;
      const answer = await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: statusChange.replace("Cat is ill", title),
      });
      if (answer.status === 200) accepted.push(title);
      else refused += 1;
    }
    expect(refused).toBe(10);
    expect(accepted.length).toBeGreaterThan(500); // more than the drainer's first batch
    expect(segmentFiles(dir).filter((file) => file.size <= segmentHeaderBytes)).toEqual([]);

    await redis.start();
    await sink.waitForRequests(accepted.length, 30_000);
    const titles = sink.requests.map(
      (request) => (request.json as { payload: { Ticket: { Title: string } } }).payload.Ticket.Title,
    );
    expect(new Set(titles)).toEqual(new Set(accepted));
  }, 60_000);
});

import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DisabledTargets } from "../../src/queue/disabled-targets.js";
import type { DeliveryJob } from "../../src/queue/jobs.js";
import { openDeliveryQueue, relayKeys } from "../../src/queue/queues.js";
import { runCli, writeConfig } from "../support/cli-run.js";
import { freePort } from "../support/free-port.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
const day = 24 * 3600_000;

/**
 * `ticket-relay dlq …` and `targets …` as a user runs them at a shell, against the Redis of a
 * real relay whose HTTP target refused deliveries.
 */
describe("the dlq and targets commands", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let prefix: string;
  let configFile: string;

  beforeAll(async () => {
    sink = await startHttpSink();
  });

  beforeEach(async () => {
    prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: everything-to-crm, to: [crm] }
`;
    relay = await startTestRelay(yaml);
    configFile = writeConfig(yaml);
    queue = openDeliveryQueue({ url: redis.url, prefix });
  });

  afterEach(async () => {
    await relay.close();
    await queue.close();
    sink.reset();
  });

  afterAll(async () => {
    await sink?.close();
  });

  const cli = (...args: string[]) => runCli([...args, "--config", configFile]);
  /** A webhook whose one delivery the sink refuses with 404: a dead letter after one try. */
  const deadLetter = async (title = "Cat is ill") => {
    const before = await queue.getFailedCount();
    sink.respondWith({ status: 404 });
    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange.replace("Cat is ill", title),
    });
    await waitFor(async () => ((await queue.getFailedCount()) > before ? true : undefined), { what: "a dead letter" });
    const [newest] = await queue.getFailed(0, 0);
    return newest?.id ?? "";
  };
  const listed = async () => JSON.parse((await cli("dlq", "list", "--json")).stdout) as { id: string }[];

  it("lists a delivery the endpoint refused with 404, with its ticket and why", async () => {
    const id = await deadLetter();

    const { code, stdout } = await cli("dlq", "list");
    expect(code).toBe(0);
    const [header, row, ...rest] = stdout.trim().split("\n");
    expect(header).toMatch(/^ID\s+AGE\s+TARGET\s+TICKET\s+EVENT\s+LAST ERROR$/);
    expect(rest).toEqual([]);
    for (const part of [
      id,
      "crm",
      "4478963",
      "ticket_status_change",
      `HTTP crm (POST ${sink.url}/hooks) answered 404`,
    ]) {
      expect(row).toContain(part);
    }

    const [record] = await listed();
    expect(record).toMatchObject({ id, target: "crm", ticketId: "4478963", tries: 1, route: "everything-to-crm" });
  });

  it("replays a target's dead letters once the endpoint is fixed, and the list is empty after", async () => {
    const id = await deadLetter();
    // The sink answers 200 from here on: the receiver was fixed.
    const { code, stdout } = await cli("dlq", "replay", "--target", "crm");
    expect(code).toBe(0);
    expect(stdout.trim()).toBe("replayed 1 dead letter");

    const requests = await sink.waitForRequests(2);
    expect(requests.map((request) => (request.json as { deliveryId: string }).deliveryId)).toEqual([id, id]);
    await waitFor(() => relay.logs.some((line) => line.includes('"msg":"delivered"') && line.includes(id)));
    expect(await listed()).toEqual([]);
  });

  it("purges only the dead letters older than --older-than", async () => {
    const old = await deadLetter("Cat is ill");
    const recent = await deadLetter("Dog is ill");
    await redis.client.hset(relayKeys(prefix).deliveryJob(old), "finishedOn", Date.now() - 2 * day);

    const { code, stdout } = await cli("dlq", "purge", "--all", "--older-than", "1d");
    expect(code).toBe(0);
    expect(stdout.trim()).toBe("purged 1 dead letter");
    expect((await listed()).map((record) => record.id)).toEqual([recent]);
  });

  it("shows one dead letter in full with the message it would send, as text and as JSON", async () => {
    const id = await deadLetter();
    const [text, json] = await Promise.all([cli("dlq", "show", id), cli("dlq", "show", id, "--json")]);

    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`try 1: HTTP crm (POST ${sink.url}/hooks) answered 404`);
    expect(text.stdout).toContain('"title": "Ticket #4478963 \\"Cat is ill\\": open → pending"');
    expect(text.stdout).toContain(`POST ${sink.url}/hooks`);
    const shown = JSON.parse(json.stdout);
    expect(shown).toMatchObject({ id, ticketId: "4478963", message: { type: "http", body: { deliveryId: id } } });
  });

  it("exits 1 for an id that is no dead letter, saying so", async () => {
    const [show, replay, purge] = await Promise.all([
      cli("dlq", "show", "nope"),
      cli("dlq", "replay", "nope"),
      cli("dlq", "purge", "nope"),
    ]);
    for (const result of [show, replay, purge]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no dead letter "nope"');
    }
  });

  it("exits 1 within seconds when Redis is unreachable, and says where it looked", async () => {
    const port = await freePort();
    const file = writeConfig(`
redis: { url: "redis://127.0.0.1:${port}" }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
`);
    const result = await runCli(["dlq", "list", "--config", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(result.ms).toBeLessThan(8000);
  });

  it("exits 2 on a usage error, and 0 with a command's own help", async () => {
    const [none, both, unknown, help] = await Promise.all([
      cli("dlq", "replay"),
      cli("dlq", "purge", "some-id", "--all"),
      cli("dlq", "resend"),
      runCli(["dlq", "purge", "--help"]),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("name dead letters by ID, --target T or --all");
    expect(both.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "dlq resend"');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("ticket-relay dlq purge (ID... | --target T | --all) [--older-than 7d]");
  });

  it("lists a target disabled by a 410 with why and since, and enables it again", async () => {
    const disabled = new DisabledTargets(redis.client, relayKeys(prefix));
    await disabled.disable("crm", `HTTP crm (POST ${sink.url}/hooks) answered 410`);

    const list = await cli("targets", "list");
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^TARGET\s+SINCE\s+REASON\n/);
    expect(list.stdout).toContain("answered 410");

    const enable = await cli("targets", "enable", "crm");
    expect(enable.code).toBe(0);
    expect(enable.stdout).toContain("target crm enabled");
    expect(await disabled.list()).toEqual(new Map());
    expect(JSON.parse((await cli("targets", "list", "--json")).stdout)).toEqual([]);
    expect((await cli("targets", "enable", "nope")).code).toBe(1);
  });
});

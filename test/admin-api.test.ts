import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../src/queue/jobs.js";
import { openDeliveryQueue } from "../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");
const token = "admin-token-5c1e9a7d";

/** `/admin/dlq` on the ingest port, over real HTTP, against dead letters a real relay made. */
describe("the admin API", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;

  beforeAll(async () => {
    sink = await startHttpSink();
  });

  afterEach(async () => {
    await relay?.close();
    await queue?.close();
    sink.reset();
  });

  afterAll(async () => {
    await sink?.close();
  });

  const start = async (admin: string, env: NodeJS.ProcessEnv = { RELAY_ADMIN_TOKEN: token }) => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
${admin}
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: everything-to-crm, to: [crm] }
`,
      { env },
    );
    queue = openDeliveryQueue({ url: redis.url, prefix });
  };
  const deadLetter = async () => {
    sink.respondWith({ status: 404 });
    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    await waitFor(async () => ((await queue.getFailedCount()) === 1 ? true : undefined), { what: "a dead letter" });
  };
  const admin = (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
    fetch(`${relay.url}${path}`, {
      method,
      headers: {
        ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
        ...(options.body !== undefined && { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });

  it("answers 401 without the token or with a wrong one, and lists dead letters with it", async () => {
    await start(`admin: { token: "\${RELAY_ADMIN_TOKEN}" }`);
    await deadLetter();

    for (const wrong of [undefined, "", `${token}x`, token.slice(0, -1)]) {
      const refused = await admin("GET", "/admin/dlq", { token: wrong });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ error: "send Authorization: Bearer <admin.token>" });
    }
    const listed = await admin("GET", "/admin/dlq?target=crm&since=1h", { token });
    expect(listed.status).toBe(200);
    const { deadLetters } = (await listed.json()) as { deadLetters: { target: string; ticketId: string }[] };
    expect(deadLetters).toMatchObject([{ target: "crm", ticketId: "4478963", route: "everything-to-crm" }]);
    expect(await (await admin("GET", "/admin/dlq?target=other", { token })).json()).toEqual({ deadLetters: [] });
    expect(relay.logs.join("")).not.toContain(token);
  });

  it("is off, and answers 404 saying how to turn it on, without admin.token or with it empty", async () => {
    for (const [config, env] of [
      ["", {}],
      [`admin: { token: "\${RELAY_ADMIN_TOKEN:-}" }`, {}],
    ] as const) {
      await start(config, env);
      const response = await admin("GET", "/admin/dlq", { token: "" });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toMatch(/^the admin API is off: set admin.token/);
      await relay.close();
    }
  });

  it("replays the dead letters a POST names, and delivers them", async () => {
    await start(`admin: { token: "\${RELAY_ADMIN_TOKEN}" }`);
    await deadLetter();
    const [letter] = await queue.getFailed();

    const replayed = await admin("POST", "/admin/dlq/replay", { token, body: { target: "crm", since: "1h" } });
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toEqual({ replayed: 1, notFound: [] });
    const requests = await sink.waitForRequests(2);
    const ids = requests.map((request) => (request.json as { deliveryId: string }).deliveryId);
    expect(ids).toEqual([letter?.id, letter?.id]);
    await waitFor(async () => ((await queue.getFailedCount()) === 0 ? true : undefined));
  });

  it("deletes dead letters by id, and refuses a body that names none", async () => {
    await start(`admin: { token: "\${RELAY_ADMIN_TOKEN}" }`);
    await deadLetter();
    const [letter] = await queue.getFailed();

    const unclear = await admin("DELETE", "/admin/dlq", { token, body: { target: "crm", all: true } });
    expect(unclear.status).toBe(400);
    expect(((await unclear.json()) as { error: string }).error).toContain(
      '{"ids": [...]}, {"target": "<id>"} or {"all": true}',
    );
    const purged = await admin("DELETE", "/admin/dlq", { token, body: { ids: [letter?.id, "nope"] } });
    expect(await purged.json()).toEqual({ purged: 1, notFound: ["nope"] });
    expect(await queue.getFailedCount()).toBe(0);
  });
});

import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.js";
import { type SlackApiServer, startSlackApi } from "../support/slack-api.js";
import { waitFor } from "../support/wait.js";
import {
  deliveriesById,
  inParallel,
  postUntilAccepted,
  scaleConfig,
  slackToken,
  ticketEvent,
} from "./support/burst.js";
import { type RedisCluster, startRedisCluster } from "./support/topologies.js";

/** Tickets whose events also go to Slack: few, since Slack is paced per channel. */
const slackTickets = [7300001, 7300002, 7300003];
/** Tickets whose events go to the HTTP sink only, many of them at once. */
const burstTickets = Array.from({ length: 10 }, (_, i) => 7310001 + i);
const eventsPerTicket = 20;

describe("on a three-master Redis Cluster", () => {
  let cluster: RedisCluster;
  let sink: HttpSink;
  let slack: SlackApiServer;
  const processes: RelayProcess[] = [];

  beforeAll(async () => {
    [cluster, sink, slack] = await Promise.all([
      startRedisCluster(),
      startHttpSink(),
      startSlackApi({ token: slackToken(), channels: ["#support"] }),
    ]);
  }, 60_000);

  afterAll(async () => {
    for (const process of processes) process.kill("SIGTERM");
    await Promise.all(processes.map((process) => process.exited));
    await sink?.close();
    await slack?.close();
    await cluster?.stop();
  });

  it("two ingest and two worker processes deliver every event of a burst once, and keep one Slack root per ticket", async () => {
    const yaml = scaleConfig(
      `cluster: { nodes: [${cluster.nodes.map((node) => `"${node}"`).join(", ")}] }\nprefix: scale`,
      sink.url,
      {
        targets: `support-slack: { type: slack, token: ${slackToken()}, channel: "#support", apiUrl: "${slack.url}" }`,
        routes: `- name: slack
  match: { ticketId: [${slackTickets.map((id) => `"${id}"`).join(", ")}] }
  to: [support-slack]
  continue: true`,
      },
    );
    // One after the other: four processes compiling at once on a small machine start slowly.
    for (const role of ["worker", "worker", "ingest", "ingest"] as const) {
      processes.push(await startRelayProcess(yaml, role, { startTimeoutMs: 60_000 }));
    }
    const ingests = processes.filter((process) => process.url !== "").map((process) => process.url);
    expect(ingests).toHaveLength(2);

    // Every event of a Slack ticket at once, to both ingests: the workers race for the root.
    const slackBodies = slackTickets.flatMap((ticketId) =>
      [0, 1, 2, 3].map((n) => ticketEvent(ticketId, n || undefined)),
    );
    const burst = burstTickets.flatMap((ticketId) =>
      Array.from({ length: eventsPerTicket }, (_, n) => ticketEvent(ticketId, n + 1)),
    );
    const bodies = [...slackBodies, ...burst];
    await inParallel(bodies, 24, async (body, index) => {
      expect(await postUntilAccepted(ingests[index % 2] ?? "", body)).toBe(true);
    });

    await sink.waitForRequests(bodies.length, 90_000);
    await slack.waitForPosts(slackBodies.length, 90_000);
    // Nothing more arrives: a late duplicate would show up here.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const counts = deliveriesById(sink.requests);
    expect(counts.size).toBe(bodies.length);
    const twice = [...counts].filter(([, count]) => count !== 1).map(([id]) => id);
    const why = processes.flatMap((process) => process.lines.filter((line) => twice.some((id) => line.includes(id))));
    expect(twice, why.join("\n")).toEqual([]);

    for (const ticketId of slackTickets) {
      const posts = slack.posts.filter((post) => JSON.stringify(post).includes(`ticketId=${ticketId}`));
      const roots = posts.filter((post) => post.thread_ts === undefined);
      expect(roots, `ticket ${ticketId}`).toHaveLength(1);
      expect(posts.filter((post) => post.thread_ts === roots[0]?.ts)).toHaveLength(3);
    }

    // Every key the relay wrote carries the hash tag: all of them live in one slot.
    const client = new Cluster(cluster.nodes.map((node) => ({ host: "127.0.0.1", port: Number(new URL(node).port) })));
    try {
      await new Promise((resolve) => client.once("ready", resolve));
      const keys = (await Promise.all(client.nodes("master").map((node) => node.keys("*")))).flat();
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith("{scale}:"))).toEqual([]);

      // The history, written in pipelines through the Cluster: every webhook, each delivered.
      const reader = new HistoryReader(client, historyKeys("{scale}"));
      await waitFor(
        async () => {
          const { webhooks } = await reader.list({ limit: 1000 });
          const delivered = webhooks.filter((story) => story.deliveries.every((d) => d.state === "delivered"));
          return delivered.length === bodies.length || undefined;
        },
        { what: `the history of all ${bodies.length} webhooks, delivered` },
      );
      const timeline = await reader.ticket(String(slackTickets[0]));
      expect(timeline.webhooks).toHaveLength(4);
      expect(timeline.slackThread).toMatch(/^https:\/\/relay-test\.slack\.com\/archives\//);
    } finally {
      client.disconnect();
    }
    await waitFor(
      () => processes.every((process) => !process.lines.some((line) => /CROSSSLOT/.test(line))) || undefined,
      {
        what: "no CROSSSLOT error in any process",
      },
    );
  });
});

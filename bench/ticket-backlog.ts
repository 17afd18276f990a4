/**
 * `npm run bench` (ticket backlog part): how fast one ticket's backlog drains, and whether a
 * paced Slack channel's backlog slows another target (issue 27, finding 5). A ticket's
 * deliveries to one target go one after another, each parked until the one before it finishes;
 * the floor of each figure is the same relay delivering the same number of events that wait for
 * nothing, measured in the same run. Starts its own redis-server on a free port, an HTTP sink
 * that also counts arrivals out of their ticket's order (bench/sink.ts) and the relay's
 * ingest and worker roles as processes of their own; the local Slack Web API stand-in runs in
 * this process. Prints the figures and merges them into bench/results.json under
 * `ticketBacklog`. Nothing here passes or fails.
 *
 *   BENCH_TICKET_BACKLOG=100,2000 BENCH_PACED_EVENTS=600 npx tsx bench/ticket-backlog.ts
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { freePort } from "../test/support/free-port.js";
import { startRedisServer } from "../test/support/redis.js";
import { startSlackApi } from "../test/support/slack-api.js";
import { replyCreation } from "../test/support/ticket-events.js";
import { answers, sleep, startChild, startedLogged } from "./support/child.js";
import { type SinkStats, startSinkProcess } from "./support/sink-process.js";

const settings = {
  /** Events of one ticket stored before the worker starts, one drain per size. */
  backlogs: (process.env.BENCH_TICKET_BACKLOG ?? "100,2000,50000").split(",").filter(Boolean).map(Number),
  /** Events of one ticket routed to a Slack channel paced at 1 s and to an HTTP target. */
  pacedEvents: Number(process.env.BENCH_PACED_EVENTS ?? 600),
  /** A drain still short of its count after this long is reported as far as it got. */
  waitSeconds: Number(process.env.BENCH_TICKET_WAIT_SECONDS ?? 300),
  /**
   * A drain with nothing arriving for this long is given up. Longer than a slot's lease (60 s):
   * a drain that pauses and resumes is measured whole, its longest pause printed.
   */
  stallSeconds: Number(process.env.BENCH_TICKET_STALL_SECONDS ?? 90),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  /** The HTTP target's `concurrency`; unset: the relay's default. */
  targetConcurrency: process.env.BENCH_TARGET_CONCURRENCY ? Number(process.env.BENCH_TARGET_CONCURRENCY) : undefined,
};
/** The issue's goal for one ticket's backlog to a local HTTP sink, in deliveries a second. */
const goalPerSecond = 200;
const pace = 1000;

const root = new URL("..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "relay-bench-ticket-"));
const redisServer = await startRedisServer();
const redis = new Redis(redisServer.url);
const token = ["xox", "b", "bench"].join("-");
const slack = await startSlackApi({ token });

const sinkProcess = await startSinkProcess(dir);
const sinkUrl = sinkProcess.url;
const sink = sinkProcess.child;
const sinkStats = sinkProcess.stats;
const resetSink = sinkProcess.reset;
/** Set when a drain stops short: its relay logs are kept to read why. */
let keepLogs = false;
const round = (value: number, places = 0) => Math.round(value * 10 ** places) / 10 ** places;

/** Deliveries a second from the sink's first arrival to its last. */
const rateOf = (stats: SinkStats) =>
  stats.count > 1 ? round((stats.count - 1) / ((stats.last - stats.first) / 1000)) : 0;

/**
 * Waits until the sink has `count`, or nothing arrived for `stallSeconds`, or `waitSeconds` passed: a
 * drain slower than that is reported as far as it got, instead of holding the run for hours.
 */
async function waitForSink(count: number, what: string): Promise<SinkStats & { complete: boolean }> {
  const started = Date.now();
  let last = await sinkStats();
  let lastProgress = Date.now();
  while (last.count < count) {
    await sleep(200);
    const now = await sinkStats();
    if (now.count > last.count) lastProgress = Date.now();
    last = now;
    const waited = Math.round((Date.now() - started) / 1000);
    if (Date.now() - lastProgress > settings.stallSeconds * 1000 || waited > settings.waitSeconds) {
      keepLogs = true;
      console.log(
        `  ${what}: stopped waiting at ${last.count} of ${count} after ${waited} s; relay logs kept in ${dir}`,
      );
      return { ...last, complete: false };
    }
  }
  return { ...last, complete: true };
}

function relayYaml(prefix: string, to: string[]): string {
  return `
redis: { url: "${redisServer.url}", prefix: ${prefix} }
allowPrivateNetwork: true
workers: { opsPort: 0 }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sinkUrl}/hooks"${settings.targetConcurrency ? `, concurrency: ${settings.targetConcurrency}` : ""} }
  paced: { type: slack, token: ${token}, channel: "#paced", apiUrl: "${slack.url}", pace: ${pace} }
routes:
  - name: everything
    to: [${to.join(", ")}]
`;
}

async function startRelay(role: "ingest" | "worker", prefix: string, to: string[]) {
  const port = await freePort();
  const file = join(dir, `${prefix}-${role}.yaml`);
  writeFileSync(file, `server: { port: ${port}, host: 127.0.0.1 }\n${relayYaml(prefix, to)}`);
  const logFile = join(dir, `${prefix}-${role}.log`);
  const child = await startChild(["src/main.ts", "serve", "--config", file, "--role", role], {
    env: { LOG_LEVEL: "info", OPS_PORT: "0" },
    logFile,
    ready: async () => (role === "worker" ? startedLogged(logFile) : answers(`http://127.0.0.1:${port}/readyz`)),
    what: `the relay (role ${role})`,
  });
  return { child, url: `http://127.0.0.1:${port}/webhooks/socialboards` };
}

/**
 * Posts `count` reply_creation webhooks, each a reply id of its own (the same body twice is a
 * platform retry, stored once), to one ticket or each to a ticket of its own. Sent over several
 * connections, so they reach the relay in an order of its choosing; the order it received them
 * in is the one the sink checks.
 */
let replies = 0;
const ticketBase = 7_000_000;
async function postWebhooks(url: string, count: number, tickets: "one" | "many") {
  // Built once and filled in per request: reading and editing the fixture 50,000 times would
  // make the bench process the slowest part of storing them.
  const [ticketMark, replyMark] = ["918273645", "546372819"];
  const template = JSON.stringify(replyCreation(Number(ticketMark), Number(replyMark)));
  const firstReply = replies;
  const nextBody = () => {
    replies += 1;
    const ticket = tickets === "one" ? ticketBase : ticketBase + 1 + (replies - firstReply);
    return template.replaceAll(ticketMark, String(ticket)).replaceAll(replyMark, String(replies));
  };
  const started = Date.now();
  const result = await autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections: Math.min(settings.connections, count),
    amount: count,
    setupClient(client) {
      client.setBody(nextBody());
      client.on("response", () => client.setBody(nextBody()));
    },
  });
  const refused = result.non2xx + result.errors;
  if (refused > 0) console.log(`  ${refused} of ${count} webhooks refused; the drain waits for the ones taken`);
  return { accepted: result["2xx"], seconds: (Date.now() - started) / 1000 };
}

interface Drain {
  stored: number;
  delivered: number;
  perSecond: number;
  outOfOrder: number;
  duplicates: number;
  /** The longest time between two deliveries, in seconds. */
  longestPause: number;
  complete: boolean;
}

/**
 * `count` webhooks stored with only ingest running, then one worker started: deliveries a
 * second from its first delivery to the last. Each drain has a Redis prefix of its own and
 * Redis is emptied after it, so no drain inherits another's state.
 */
async function drainStored(count: number, tickets: "one" | "many"): Promise<Drain> {
  const prefix = `tb${count}${tickets}`;
  await resetSink();
  const ingest = await startRelay("ingest", prefix, ["crm"]);
  const stored = await postWebhooks(ingest.url, count, tickets);
  // The worker alone on the machine's cores while it drains, as in the backlog bench.
  await ingest.child.stop();
  const worker = await startRelay("worker", prefix, ["crm"]);
  const stats = await waitForSink(stored.accepted, `${count} ${tickets === "one" ? "of one ticket" : "tickets"}`);
  await worker.child.stop();
  await redis.flushall();
  return {
    stored: stored.accepted,
    delivered: stats.count,
    perSecond: rateOf(stats),
    outOfOrder: stats.outOfOrder,
    duplicates: stats.count - stats.distinct,
    longestPause: round(stats.longestGapMs / 1000, 1),
    complete: stats.complete,
  };
}

const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  settings,
};
console.log(
  `node ${process.version}, ${cpus().length} cpus; one ticket's backlog beside the same events over as many tickets, same run`,
);

// 1. One ticket's backlog, stored before the worker starts, against the same count of events
//    over as many tickets (nothing to wait for: the target's concurrency is the only bound).
const backlogs = [];
for (const count of settings.backlogs) {
  const spread = await drainStored(count, "many");
  const oneTicket = await drainStored(count, "one");
  const ratio = round(oneTicket.perSecond / Math.max(spread.perSecond, 1), 2);
  backlogs.push({ events: count, oneTicket, spread, ratio, reachesGoal: oneTicket.perSecond >= goalPerSecond });
  const reached = (drain: Drain) => (drain.complete ? "" : ` (stopped at ${drain.delivered} of ${drain.stored})`);
  console.log(
    `${count} events stored before the worker: one ticket ${oneTicket.perSecond}/s${reached(oneTicket)} | ` +
      `${count} tickets ${spread.perSecond}/s${reached(spread)} | ratio ${ratio} | out of order ${oneTicket.outOfOrder}, ` +
      `duplicates ${oneTicket.duplicates} | longest pause: one ticket ${oneTicket.longestPause} s, ` +
      `${count} tickets ${spread.longestPause} s | goal ${goalPerSecond}/s for one ticket: ` +
      `${oneTicket.perSecond >= goalPerSecond ? "reached" : "not reached"}`,
  );
}
results.backlogs = backlogs;

// 2. A Slack channel paced at 1 s beside an HTTP target, one ticket's events routed to both
//    while ingest and worker run: the HTTP target's drain against the same events routed to
//    it alone. The Slack backlog takes `pacedEvents` seconds; only the HTTP side is waited for.
async function drainBeside(to: string[]) {
  const prefix = `paced${to.length}`;
  await resetSink();
  slack.reset();
  slack.limitChannel("#paced", { everyMs: pace * 0.9, retryAfter: 1 });
  const ingest = await startRelay("ingest", prefix, to);
  const worker = await startRelay("worker", prefix, to);
  const started = Date.now();
  const posted = await postWebhooks(ingest.url, settings.pacedEvents, "one");
  const postedAt = Date.now();
  const stats = await waitForSink(posted.accepted, to.length > 1 ? "HTTP beside paced Slack" : "HTTP alone");
  const figures = {
    delivered: stats.count,
    perSecond: round(stats.count / ((stats.last - started) / 1000)),
    secondsAfterLastPost: round(Math.max(0, stats.last - postedAt) / 1000, 1),
    outOfOrder: stats.outOfOrder,
    complete: stats.complete,
    slackPosts: slack.posts.length,
  };
  await Promise.all([ingest.child.stop(), worker.child.stop()]);
  await redis.flushall();
  return figures;
}
const alone = await drainBeside(["crm"]);
const beside = await drainBeside(["paced", "crm"]);
const pacedRatio = round(beside.perSecond / Math.max(alone.perSecond, 1), 2);
results.pacedBeside = { events: settings.pacedEvents, paceMs: pace, beside, alone, ratio: pacedRatio };
console.log(
  `${settings.pacedEvents} events of one ticket, from the first POST: HTTP beside a Slack channel paced ${pace} ms ` +
    `${beside.perSecond}/s (${beside.delivered} delivered, last ${beside.secondsAfterLastPost} s after the last POST, ` +
    `${beside.outOfOrder} out of order; Slack had ${beside.slackPosts} by then) | HTTP alone ${alone.perSecond}/s ` +
    `(last ${alone.secondsAfterLastPost} s after the last POST) | ratio ${pacedRatio}`,
);

// The other bench scripts' figures stay: this part adds its own key.
const resultsFile = join(root, "bench/results.json");
const previous = existsSync(resultsFile)
  ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, unknown>)
  : {};
writeFileSync(resultsFile, `${JSON.stringify({ ...previous, ticketBacklog: results }, null, 2)}\n`);
console.log("figures written to bench/results.json (ticketBacklog)");
await sink.stop();
await slack.close();
redis.disconnect();
await redisServer.stop();
if (!keepLogs) rmSync(dir, { recursive: true, force: true });

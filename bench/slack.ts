/**
 * `npm run bench` (Slack part): how fast events reach Slack channels through the relay's
 * per-channel pace. One channel should sit at its `pace` (1 s), however many events wait;
 * twenty channels at once should go twenty times as fast, not be held to one post a second.
 * Runs a redis-server, the local Slack Web API stand-in (which answers 429 to a channel posted
 * to faster than it allows) and a relay in this process. It measures; nothing passes or fails.
 *
 *   BENCH_SLACK_EVENTS=8 BENCH_SLACK_CHANNELS=20 npm run bench
 */
import { readFileSync } from "node:fs";
import { startRedisServer } from "../test/support/redis.js";
import { startTestRelay } from "../test/support/relay.js";
import { startSlackApi } from "../test/support/slack-api.js";

/** Events sent to the one channel; the run takes about this many seconds. */
const oneChannelEvents = Number(process.env.BENCH_SLACK_EVENTS ?? 8);
const channels = Number(process.env.BENCH_SLACK_CHANNELS ?? 20);
/** Events per channel when all channels are loaded at once. */
const perChannel = 4;
const pace = 1000;
const token = ["xox", "b", "bench"].join("-");
const creation = readFileSync(new URL("../test/fixtures/socialboards/ticket_creation.json", import.meta.url), "utf8");

const redis = await startRedisServer();
const slack = await startSlackApi({ token });
// Slack's own limit, a little under the pace: a post that comes early by network jitter passes,
// one that comes far too early is answered 429 with Retry-After: 1.
for (let channel = 0; channel < channels; channel++) {
  slack.limitChannel(`#c${channel}`, { everyMs: pace * 0.9, retryAfter: 1 });
}
const targets = Array.from(
  { length: channels },
  (_, channel) => `  c${channel}: { type: slack, token: ${token}, channel: "#c${channel}", apiUrl: "${slack.url}" }`,
).join("\n");
// Ticket 9000000 + channel × 1000 + n goes to channel `#c<channel>`: one ticket per event, so
// that nothing but the pace orders them.
const routes = Array.from(
  { length: channels },
  (_, channel) =>
    `  - { match: { ticketId: { gte: ${9_000_000 + channel * 1000}, lt: ${9_001_000 + channel * 1000} } }, to: [c${channel}] }`,
).join("\n");
const relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: benchslack }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
workers: { concurrency: 20 }
targets:
${targets}
routes:
${routes}
`);

async function postTicket(ticketId: number) {
  const body = creation.replaceAll("4478963", String(ticketId));
  const response = await fetch(`${relay.url}/webhooks/socialboards`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
}

/** Sends the events at once, and notes when each post reaches Slack (polled every 5 ms). */
async function run(label: string, tickets: number[], channelCount: number) {
  slack.reset();
  for (let channel = 0; channel < channels; channel++) {
    slack.limitChannel(`#c${channel}`, { everyMs: pace * 0.9, retryAfter: 1 });
  }
  const started = Date.now();
  await Promise.all(tickets.map(postTicket));
  const arrivals: number[] = [];
  while (slack.posts.length < tickets.length && Date.now() - started < 60_000) {
    while (arrivals.length < slack.posts.length) arrivals.push(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  while (arrivals.length < slack.posts.length) arrivals.push(Date.now());
  const seconds = ((arrivals.at(-1) ?? started) - started) / 1000;
  const refused = Array.from({ length: channels }, (_, channel) => slack.refusedIn(`#c${channel}`)).reduce(
    (sum, count) => sum + count,
    0,
  );
  // Past each channel's first post, posts can only come at the pace: the steady rate.
  const first = arrivals[0] ?? started;
  const steady = (arrivals.length - channelCount) / Math.max(((arrivals.at(-1) ?? first) - first) / 1000, 0.001);
  console.log(
    `${label}: ${slack.posts.length}/${tickets.length} delivered in ${seconds.toFixed(1)} s, ` +
      `${(slack.posts.length / seconds).toFixed(1)} events/s overall, ${steady.toFixed(1)} events/s after the first post per channel ` +
      `(${(steady / channelCount).toFixed(2)} per channel; pace ${pace} ms = ${(1000 / pace).toFixed(2)}), ${refused} answered 429`,
  );
}

console.log(`node ${process.version}, Slack pace ${pace} ms per channel, ${channels} channels`);
await run(
  "one channel",
  Array.from({ length: oneChannelEvents }, (_, n) => 9_000_000 + n),
  1,
);
await run(
  `${channels} channels at once`,
  Array.from(
    { length: channels * perChannel },
    (_, n) => 9_000_000 + (n % channels) * 1000 + 100 + Math.floor(n / channels),
  ),
  channels,
);

await relay.close();
await slack.close();
await redis.stop();

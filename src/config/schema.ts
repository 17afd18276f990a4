import { z } from "zod";
import { templateProblem } from "../messages/templates.js";
import { type MatchCondition, type MatchOperators, operatorNames } from "../routing/conditions.js";
import { isMatchKey, matchFieldNames } from "../routing/fields.js";
import { isStandardWebhookSecret } from "../signing/standard-webhooks.js";
import { digestSchema } from "./digest-schema.js";
import { durationPattern, parseDuration, parseSize, sizePattern } from "./duration.js";
import { closestName } from "./errors.js";
import { historySchema } from "./history-schema.js";
import { slackPaceKeys, staleEventKeys } from "./ordering-schema.js";
import { redisSchema } from "./redis-schema.js";
import { spoolSchema } from "./spool-schema.js";
import { routeTimeKeys, timeIntervalsSchema } from "./time-intervals-schema.js";

/**
 * The whole config file, validated in one place before anything runs. Types come from here:
 * `Config` is what every other module receives, already defaulted and converted.
 */

/** An id that appears in URLs and job ids: no spaces, colons or slashes. */
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "use letters, digits, - and _");

/** A whole number, also when it arrives as a string from `${PORT:-8080}`. */
const wholeNumber = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/** Milliseconds: a number, or "500ms", "10s", "5m", "1h", "1d". */
const duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(durationPattern, 'use a duration like "500ms", "10s", "5m" or "1h"').transform(parseDuration),
]);

/** Bytes: a number, or "512kb", "1mb". */
const size = z.union([
  z.number().int().positive(),
  z.string().regex(sizePattern, 'use a size like "512kb" or "1mb"').transform(parseSize),
]);

const nonEmpty = z.string().min(1, "must not be empty");

/**
 * `user:password@` in a target's URL would be written to the logs with the URL, and fetch
 * refuses such URLs outright, so every attempt would fail; the secret belongs in a header.
 */
const hasNoUserinfo = (url: string) => {
  // zod runs this check even on a value z.url() refused; that one is already reported.
  if (!URL.canParse(url)) return true;
  const { username, password } = new URL(url);
  return username === "" && password === "";
};

/**
 * After the first try, wait this long before each next one: in the spirit of Standard
 * Webhooks and Svix, so an outage of an hour or an afternoon costs no alert. With 8 attempts
 * the last try is about 27 hours after the first (docs/configuration.md, "retry").
 */
export const defaultSchedule = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

const retrySchema = z.strictObject({
  /** Tries in all, the first included. */
  attempts: wholeNumber.pipe(z.number().min(1).max(100)).default(8),
  backoff: z.enum(["schedule", "exponential", "fixed"]).default("schedule"),
  /** For exponential (doubling from it) and fixed. */
  delay: duration.default(1000),
  /** No wait is longer, a Retry-After included. */
  maxDelay: duration.default(12 * 3_600_000),
  /** For schedule: the wait after the 1st, 2nd … failed try; the last one repeats. */
  schedule: z.array(duration).min(1, "list at least one wait").default(defaultSchedule),
});
export type RetryPolicy = z.infer<typeof retrySchema>;

/** A target may override any part of the default retry policy. */
const retryOverride = retrySchema.partial().optional();

/**
 * A LiquidJS template (messages/templates.ts), checked here: a syntax error, an unknown filter
 * or a misspelt variable is a config problem with its file, line and key, found by `check`.
 */
const template = nonEmpty.superRefine((text, context) => {
  const problem = templateProblem(text);
  if (!problem) return;
  const { unknown } = problem;
  const guess = unknown && closestName(unknown.name, unknown.candidates);
  const hint = guess ? ` — did you mean "${unknown.prefix}${guess}"?` : "";
  context.addIssue({ code: "custom", message: `${problem.message}${hint}` });
});
const someKey = (value: object) => Object.keys(value).length > 0;
/** Slack: `title` is the header (plain text), `text` the message (mrkdwn). */
const slackTemplate = z
  .strictObject({ title: template.optional(), text: template.optional() })
  .refine(someKey, "give a title, a text or both");
/** Email: the subject, and the plain-text body (the HTML part is made from it). */
const emailTemplate = z
  .strictObject({ subject: template.optional(), text: template.optional() })
  .refine(someKey, "give a subject, a text or both");
const noHttpTemplate = z
  .never({ error: "HTTP targets send JSON (docs/targets/http.md) and take no template" })
  .optional();

/**
 * Deliveries sent to one target at once, across every worker process, unless the target says
 * otherwise: a slow or failing receiver then holds at most this many of the workers' slots
 * (workers.concurrency, 50 per process), and the others' deliveries go on beside it.
 */
export const defaultTargetConcurrency = 10;

/** Keys every kind of target has. */
const targetCommon = {
  retry: retryOverride,
  /** Sends to this target at once, across all workers (queue/delivery/target-slots.ts). */
  concurrency: wholeNumber.pipe(z.number().min(1).max(1000)).default(defaultTargetConcurrency),
  /** Another target's id: a delivery that gives up here is sent there once, saying why. */
  fallback: z.string().optional(),
  /** `dropStale`: drop an event older than one already delivered for its ticket (config/ordering-schema.ts). */
  ...staleEventKeys,
  /** Events within a window sent as one message per group (config/digest-schema.ts). */
  digest: digestSchema,
};

/**
 * Inbound deduplication: the same body from the same source within `window` is the platform's
 * retry of one it already sent (a platform that signs nothing re-sends when it got no 200).
 */
const dedupe = (defaultWindow: number) => z.strictObject({ window: duration.default(defaultWindow) }).prefault({});

/** A secret that may be left out; `${VAR:-}` (empty) counts as left out. */
/**
 * The secret in the endpoint URL of a platform that signs nothing (Socialboards, Sonar): it is
 * all that tells the platform's POSTs from anyone else's, so leaving it out is an error, and
 * `none` says "anyone may post here" on purpose (a closed network, a first local try).
 */
const urlTokenRequired = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? "required: POSTs must carry ?token=<it>, since the platform signs nothing; write `urlToken: none` to let anyone post on purpose"
        : "must be text",
  })
  .min(1, "must not be empty (or `none` to let anyone post on purpose)")
  .transform((token) => (token === "none" ? undefined : token));

const optionalSecret = z
  .string()
  .optional()
  .transform((token) => (token === "" ? undefined : token));

const socialboardsSource = z.strictObject({
  type: z.literal("socialboards"),
  /** Socialboards' "Verify Token": the GET handshake must carry it. */
  verifyToken: nonEmpty,
  /** When set, POSTs must carry `?token=<it>`; Socialboards signs nothing, so this is what authenticates them. */
  urlToken: urlTokenRequired,
  dedupe: dedupe(24 * 3600_000),
});
const genericSource = z.strictObject({
  type: z.literal("generic"),
  /** How the sender signs: Standard Webhooks headers, or a GitHub-style X-Hub-Signature-256. */
  signature: z.enum(["standard-webhooks", "x-hub-signature-256"]),
  /** For standard-webhooks, `whsec_<base64>` as the sender shows it. */
  secret: nonEmpty,
  /** How far a Standard Webhooks timestamp may be from now. */
  tolerance: duration.default(5 * 60_000),
  /** Dotted JSON paths to the event's type and ticket id. */
  eventType: nonEmpty.default("type"),
  ticketId: nonEmpty.optional(),
  urlToken: optionalSecret,
  dedupe: dedupe(0),
});

const sonarSource = z.strictObject({
  type: z.literal("sonar"),
  /** When set, POSTs must carry `?token=<it>`; Sonar signs nothing either. */
  urlToken: urlTokenRequired,
  dedupe: dedupe(24 * 3600_000),
});

const sourceSchema = z.discriminatedUnion("type", [socialboardsSource, sonarSource, genericSource]);
export type SourceConfig = z.infer<typeof sourceSchema>;
/** What a source adapter is given: its own settings. Deduplication is ingest's, not the adapter's. */
export type AdapterConfig<T extends SourceConfig["type"]> = Omit<Extract<SourceConfig, { type: T }>, "dedupe">;

const slackTarget = z.strictObject({
  type: z.literal("slack"),
  token: nonEmpty,
  channel: nonEmpty,
  apiUrl: z
    .url()
    .refine(hasNoUserinfo, "remove user:password@ from apiUrl: it would be logged; Slack is authenticated by token")
    .optional(),
  template: slackTemplate.optional(),
  /** One thread per conversation: its first message is the root, kept current; the rest reply in it. */
  thread: z.boolean().default(true),
  /** Statuses whose change is also shown in the channel (`reply_broadcast`), e.g. [closed, solved]. */
  broadcast: z.array(nonEmpty).default([]),
  /** How long a quiet conversation keeps its thread; after it, its next event starts a new root. */
  threadTtl: duration.default(30 * 24 * 3600_000),
  /** `pace`: the least time between two deliveries to the channel, across workers (config/ordering-schema.ts). */
  ...slackPaceKeys,
  ...targetCommon,
});
const emailTarget = z.strictObject({
  type: z.literal("email"),
  /** smtp://user:pass@host:587 or smtps://… */
  smtp: z.string().regex(/^smtps?:\/\/./, "use an smtp:// or smtps:// URL"),
  from: nonEmpty,
  to: z.union([nonEmpty.transform((one) => [one]), z.array(nonEmpty).min(1)]),
  template: emailTemplate.optional(),
  ...targetCommon,
});
const httpTarget = z.strictObject({
  type: z.literal("http"),
  url: z
    .url({ protocol: /^https?$/ })
    .refine(
      hasNoUserinfo,
      "remove user:password@ from the URL: it would be logged; put credentials in headers instead, e.g. Authorization: Bearer <token>",
    ),
  method: z.enum(["POST", "PUT", "PATCH"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  timeout: duration.default(10_000),
  /** Lets this target reach loopback, private and link-local addresses (the SSRF guard, docs/targets/http.md). */
  allowPrivateNetwork: z.boolean().default(false),
  /** When set, every request is signed per Standard Webhooks with it. */
  signingSecret: optionalSecret.refine(
    (secret) => secret === undefined || isStandardWebhookSecret(secret),
    'use "whsec_" followed by a base64 key, e.g. whsec_ and the output of: openssl rand -base64 32',
  ),
  template: noHttpTemplate,
  ...targetCommon,
});
const targetSchema = z.discriminatedUnion("type", [slackTarget, emailTarget, httpTarget]);
export type TargetConfig = z.infer<typeof targetSchema>;
export type SlackTargetConfig = z.infer<typeof slackTarget>;
export type EmailTargetConfig = z.infer<typeof emailTarget>;
export type HttpTargetConfig = z.infer<typeof httpTarget>;

/**
 * A match condition (routing/conditions.ts): a value, a list meaning "any of these", or an
 * object of operators. Regexes are checked here, so a bad one is a config error with its line.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const scalarList = z.array(scalar).min(1, "list at least one value");
const matchOperators: z.ZodType<MatchOperators> = z
  .strictObject({
    get not() {
      return matchCondition.optional();
    },
    in: scalarList.optional(),
    contains: z.union([scalar, scalarList]).optional(),
    regex: z.string().refine(isValidRegex, "not a valid regular expression").optional(),
    glob: z.string().optional(),
    exists: z.boolean().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
  })
  .refine((operators) => Object.keys(operators).length > 0, `name an operator: ${operatorNames.join(", ")}`);
const matchCondition: z.ZodType<MatchCondition> = z.union([scalar, scalarList, matchOperators]);

const matchKey = z.string().superRefine((key, context) => {
  if (isMatchKey(key)) return;
  const guess = closestName(key, matchFieldNames);
  const hint = guess ? ` — did you mean "${guess}"?` : " (a field from docs/configuration.md, or payload.<path>)";
  context.addIssue({ code: "custom", message: `unknown match field "${key}"${hint}` });
});

const routeSchema = z.strictObject({
  name: z.string().optional(),
  match: z.record(matchKey, matchCondition).default({}),
  to: z.array(id).min(1, "name at least one target"),
  continue: z.boolean().default(false),
  /** `activeDuring` / `mutedDuring`: names from `timeIntervals` (config/time-intervals-schema.ts). */
  ...routeTimeKeys,
  /** Overrides the templates of this route's targets, key by key, for the deliveries it makes. */
  template: z
    .strictObject({ slack: slackTemplate.optional(), email: emailTemplate.optional(), http: noHttpTemplate })
    .refine(someKey, "give a template for slack, email or both")
    .optional(),
});
export type RouteConfig = z.infer<typeof routeSchema>;

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      port: wholeNumber.pipe(z.number().min(0).max(65535)).default(8080),
      host: z.string().default("0.0.0.0"),
      bodyLimit: size.default(1024 * 1024),
      /** Events one webhook may carry; each fans out to its own deliveries, so one POST cannot make thousands. */
      maxEventsPerWebhook: wholeNumber.pipe(z.number().min(1, "must be a positive whole number")).default(1000),
      /**
       * Body bytes held at once across all requests; past it a webhook gets 503 and Retry-After
       * (http/body-budget.ts). 64 bodies of the default 1 MB limit, or thousands of ordinary
       * few-KB webhooks, while 600 stalled 1 MB senders can no longer take 540 MB.
       */
      maxBodyBytesInFlight: size.default(64 * 1024 * 1024),
      /**
       * Connections open at once; more are closed as they arrive. Platforms send over a few
       * keep-alive connections; this bounds sockets and file descriptors, not throughput.
       */
      maxConnections: wholeNumber.pipe(z.number().min(1, "must be a positive whole number")).default(1024),
      /** A header block not complete after this long is answered 408 and its connection cut. */
      headersTimeout: duration.pipe(z.number().min(100, "must be at least 100ms")).default(10_000),
      /** A request (headers and body) not received in full after this long is answered 408 and cut. */
      requestTimeout: duration.pipe(z.number().min(100, "must be at least 100ms")).default(30_000),
      /**
       * Behind a TLS proxy that sets X-Forwarded-For and X-Forwarded-Proto: believe them, for the
       * client addresses the history keeps and the console cookie's `Secure` flag. Off, anyone
       * could claim any address by sending the header.
       */
      trustProxy: z.boolean().default(false),
    })
    // Node refuses to start a server whose header timeout outlasts its request timeout.
    .refine((server) => server.headersTimeout <= server.requestTimeout, {
      message: "headersTimeout must not be longer than requestTimeout",
      path: ["headersTimeout"],
    })
    // A budget smaller than one allowed body would answer every body of that size 503 for ever.
    .refine((server) => server.maxBodyBytesInFlight >= server.bodyLimit, {
      message: "maxBodyBytesInFlight must be at least bodyLimit: a body of bodyLimit must fit",
      path: ["maxBodyBytesInFlight"],
    })
    .prefault({}),
  /** One Redis, a Cluster or a Sentinel-watched primary (config/redis-schema.ts). */
  redis: redisSchema,
  workers: z
    .strictObject({
      /**
       * Deliveries one worker process runs at once. Sending is mostly waiting on the target, so
       * this is sized for I/O: at 10, a target answering in 100 ms capped a worker at 100 a second.
       */
      concurrency: wholeNumber.pipe(z.number().min(1).max(1000)).default(50),
      /**
       * How long a worker's claim on a job lasts without renewal (renewed every half of it).
       * A worker that dies holds its jobs this long at most before another may take them.
       */
      lockDuration: duration.pipe(z.number().min(1000)).default(10_000),
      /** How often workers look for jobs whose worker died; with lockDuration, the pick-up delay. */
      stalledInterval: duration.pipe(z.number().min(500)).default(5_000),
      /** On SIGTERM, how long deliveries in hand may take to finish before the process leaves them to another worker. */
      shutdownTimeout: duration.default(10_000),
      /** Role worker only: the port of /healthz, /readyz and /metrics (0: any free one). Role all serves them on server.port. */
      opsPort: wholeNumber.pipe(z.number().min(0).max(65535)).default(9464),
    })
    .prefault({}),
  /** Lets every HTTP target reach loopback, private and link-local addresses: for internal hooks and tests. */
  allowPrivateNetwork: z.boolean().default(false),
  sources: z.record(id, sourceSchema).refine((all) => Object.keys(all).length > 0, "define at least one source"),
  targets: z.record(id, targetSchema).default({}),
  retry: retrySchema.prefault({}),
  /** Deliveries that gave up, kept to be looked into and replayed (`ticket-relay dlq`). */
  deadLetters: z
    .strictObject({
      keep: duration.default(30 * 24 * 3600_000),
      /** At most this many; the oldest go first. Bounds what a long outage can pile up in Redis. */
      max: wholeNumber.pipe(z.number().min(1)).default(10_000),
    })
    .prefault({}),
  /** The admin API (`/admin/dlq` on the ingest port) is on only while `token` is set and not empty. */
  admin: z.strictObject({ token: optionalSecret }).prefault({}),
  /** What is kept of every webhook and delivery, for `ticket-relay events` (config/history-schema.ts). */
  history: historySchema,
  /** Ingest writes webhooks Redis cannot take to a local file (config/spool-schema.ts); off when left out. */
  spool: spoolSchema,
  /** Named times of week, day and year that routes refer to in `activeDuring` and `mutedDuring`. */
  timeIntervals: timeIntervalsSchema,
  routes: z.array(routeSchema).default([]),
});

export type Config = z.infer<typeof configSchema>;

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { KoaAdapter } from "@bull-board/koa";
import type { Queue } from "bullmq";
import type Koa from "koa";
import { deliveryQueueName, inboundQueueName } from "../queue/jobs.js";
import { secretsEqual } from "../sources/secure-compare.js";
import { HttpError } from "./body.js";

const dashboardPath = "/admin/queues";

export interface DashboardDeps {
  /** `admin.token`; the dashboard exists only when it is set. */
  token: string;
  /** The queues it shows: inbound and delivery. */
  queues: readonly Queue[];
}

/** What a queue's jobs are, under its name on the board. */
const descriptions: Readonly<Record<string, string>> = {
  [inboundQueueName]:
    "Webhooks whose routing failed once (or whose worker stopped mid-way), retried here. The others are routed straight from the webhook stream.",
  [deliveryQueueName]: "One job per event and target. Failed jobs are the dead letters.",
};

/**
 * bull-board's UI and API under /admin/queues: the inbound and delivery queues, their jobs,
 * and the dead letters (the delivery queue's failed jobs). Every request under the path
 * passes the token check before bull-board sees it, page, static files and API alike.
 *
 * Read-only: bull-board's "retry" keeps the tries a dead letter used (and the count of those a
 * crashed worker ended), so one that gave up after its last try would give up again at once;
 * `dlq replay` and POST /admin/dlq/replay reset them and note the replay for `dlq show`. And a
 * web page that can empty or pause the queues is more than watching them needs.
 */
export function queueDashboard({ token, queues }: DashboardDeps): Koa.Middleware {
  const server = new KoaAdapter().setBasePath(dashboardPath);
  createBullBoard({
    queues: queues.map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: true, description: descriptions[queue.name] ?? "" }),
    ),
    serverAdapter: server,
    options: { uiConfig: { boardTitle: "ticket-relay" } },
  });
  const board = server.registerPlugin();
  return async (ctx, next) => {
    if (ctx.path !== dashboardPath && !ctx.path.startsWith(`${dashboardPath}/`)) return next();
    // Constant-time, as the admin API's check: the token cannot be found by timing the 401s.
    if (!secretsEqual(token, presentedToken(ctx.get("authorization")))) {
      // A Basic challenge makes a browser ask for the password itself.
      throw new HttpError(401, "log in with the admin token as the password, or send Authorization: Bearer <token>", {
        "WWW-Authenticate": 'Basic realm="ticket-relay"',
      });
    }
    await board(ctx, next);
  };
}

/**
 * The token from `Bearer <token>`, or the password of `Basic base64(<any user>:<token>)`:
 * what a browser's own login prompt sends, since a browser cannot be told to send a Bearer.
 */
function presentedToken(authorization: string): string | undefined {
  const bearer = /^Bearer (.+)$/i.exec(authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization)?.[1];
  if (basic === undefined) return undefined;
  const credentials = Buffer.from(basic, "base64").toString("utf8");
  const colon = credentials.indexOf(":");
  return colon < 0 ? undefined : credentials.slice(colon + 1);
}

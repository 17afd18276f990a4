import type { TargetConfig } from "../config/schema.js";
import type { EmailMessage } from "../messages/email.js";
import { renderEmailMessage, renderSlackMessage } from "../messages/render.js";
import type { SlackMessage } from "../messages/slack.js";
import type { MessageTemplates } from "../messages/templates.js";
import { httpBody } from "../targets/http.js";
import { deliveryMessage } from "./delivery/delivery-message.js";
import type { DeliveryJob } from "./jobs.js";

/**
 * What a replay of a dead letter would send, rendered the way its target renders it, and
 * where to: a Slack channel, email recipients, or an HTTP method and endpoint. The endpoint is
 * shown by origin and path only, as in the targets' errors: a query string may hold an API key.
 */
export type WouldSend =
  | ({ type: "slack"; to: string } & SlackMessage)
  | ({ type: "email"; to: string } & EmailMessage)
  | { type: "http"; to: string; body: Record<string, unknown> }
  /** The target is not in the config any more: only the message's title can be told. */
  | { type: "none"; to: string; title: string };

export function wouldSend(
  deliveryId: string,
  job: DeliveryJob,
  target: TargetConfig | undefined,
  templates: MessageTemplates,
): WouldSend {
  const message = deliveryMessage(job, templates);
  switch (target?.type) {
    case "slack":
      return { type: "slack", to: target.channel, ...renderSlackMessage(message) };
    case "email":
      return { type: "email", to: target.to.join(", "), ...renderEmailMessage(message) };
    case "http": {
      const { origin, pathname } = new URL(target.url);
      // A replay starts the delivery's tries again, so its first try is number 1.
      const context = { deliveryId, attempt: 1, route: job.route, event: job.event };
      return { type: "http", to: `${target.method} ${origin}${pathname}`, body: httpBody(message, context) };
    }
    case undefined:
      return { type: "none", to: `target "${job.targetId}" is not in the config`, title: message.title };
  }
}

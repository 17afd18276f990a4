import { randomBytes } from "node:crypto";
import { closestName } from "../config/errors.js";
import { resolveConfigPath } from "../config/load.js";
import type { RelayEvent } from "../events.js";
import type { Message } from "../messages/message.js";
import { deliveryJobId } from "../queue/jobs.js";
import { createTargets } from "../targets/registry.js";
import { PermanentFailure, RetryLater, type Target, TargetGone } from "../targets/target.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import { loadOrReport } from "./load-config.js";

export const sendTest: Command = {
  name: "send-test",
  help: `Usage: ticket-relay send-test (TARGET... | --all) [--config FILE]

Sends a clearly marked test message ("ticket-relay test message — not a real ticket", with
the time) through each named target, or every target with --all, straight from this command:
no queue, no Redis, no retries. Prints a line per target: delivered, with what the far side
answered (Slack's channel and ts, the SMTP message id, the HTTP status), or why not, and
whether that failure is permanent (fix the config or the receiver) or temporary (the relay
would try again later).
Exit 0 when every target delivered, 1 when one did not, 2 on a usage error or an unknown target.`,

  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, all: { type: "boolean" } }, true);
    if (values.all && positionals.length > 0) throw new UsageError("send-test takes target ids or --all, not both");
    if (!values.all && positionals.length === 0) throw new UsageError("send-test needs a target id or --all");
    const file = resolveConfigPath(values.config);
    const config = await loadOrReport(file);
    if (!config) return 1;
    const ids = Object.keys(config.targets);
    if (ids.length === 0) {
      console.error(`${file} has no targets to send to`);
      return 1;
    }
    for (const id of positionals) {
      if (config.targets[id]) continue;
      const guess = closestName(id, ids);
      console.error(
        `no target "${id}" in ${file}${guess ? ` — did you mean "${guess}"?` : ` (targets: ${ids.join(", ")})`}`,
      );
      return 2;
    }

    const targets = createTargets(config);
    const chosen = (values.all ? ids : [...new Set(positionals)]).flatMap((id) => targets.get(id) ?? []);
    const run = randomBytes(3).toString("hex");
    try {
      const outcomes = await Promise.all(chosen.map((target) => sendOne(target, run, new Date())));
      for (const { id, line } of outcomes) console.log(`${id}  ${line}`);
      const delivered = outcomes.filter((outcome) => outcome.delivered).length;
      if (chosen.length > 1) console.log(`${delivered} of ${chosen.length} targets delivered`);
      return delivered === chosen.length ? 0 : 1;
    } finally {
      await Promise.all([...targets.values()].map((target) => target.close?.()));
    }
  },
};

async function sendOne(
  target: Target,
  run: string,
  now: Date,
): Promise<{ id: string; delivered: boolean; line: string }> {
  const { message, event } = testMessage(target.id, run, now);
  try {
    const receipt = await target.send(message, {
      deliveryId: deliveryJobId(event.id, target.id),
      attempt: 1,
      route: "send-test",
      event,
    });
    return { id: target.id, delivered: true, line: `delivered: ${receipt.detail}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { id: target.id, delivered: false, line: `not delivered${kindOf(error)}: ${reason}` };
  }
}

/** How the relay would take this failure, in the words its logs and `dlq` use. */
function kindOf(error: unknown): string {
  if (error instanceof TargetGone) return ", the receiver says it is gone (the relay would disable this target)";
  if (error instanceof PermanentFailure) return ", a permanent failure (trying again will not help)";
  if (error instanceof RetryLater) return ", a temporary failure (the relay would try again later)";
  return "";
}

/**
 * A message nobody can take for a real ticket: its title says so, with the time, and it names
 * the target and the command that sent it. Its event id is new on every run, so a receiver that
 * drops repeats by `webhook-id` takes each test.
 */
function testMessage(targetId: string, run: string, now: Date): { message: Message; event: RelayEvent } {
  const time = now
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const event: RelayEvent = {
    id: `send-test-${run}.0`,
    source: "send-test",
    sourceType: "ticket-relay",
    type: "test_message",
    known: true,
    receivedAt: now.toISOString(),
    raw: { test: true, note: "sent by ticket-relay send-test; not a real ticket" },
  };
  const message: Message = {
    title: `ticket-relay test message — not a real ticket (${time})`,
    fields: [
      { label: "Sent", value: time },
      { label: "Target", value: targetId },
      { label: "Why", value: "ticket-relay send-test checks that this target can deliver; nothing needs doing" },
    ],
    event,
  };
  return { message, event };
}

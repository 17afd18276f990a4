import type { ReplayPlan, ReplaySelector } from "../../history/replay.js";
import { type Command, parseOptions, UsageError } from "../command.js";
import { durationOption } from "../duration-option.js";
import { printJson } from "../output.js";
import { outcomeOption } from "./list.js";
import { notInHistory } from "./show.js";
import { withHistory } from "./with-history.js";

/** Planned deliveries listed one a line; past this, a count. */
const maxListed = 20;

export const eventsReplay: Command = {
  name: "events replay",
  help: `Usage: ticket-relay events replay (--ticket ID | --target T | --outcome OUTCOME | RECEIPT_ID...)
                                  [--since 1h] [--dry-run] [--json] [--config FILE]

Sends recorded deliveries again. It first says how many deliveries it would queue, each of
them, and each it cannot queue and why; then, unless --dry-run, queues them and says how many
were queued. A dead letter is queued again as \`ticket-relay dlq replay\` does (same delivery
id, tries started again); a delivery that went, or was dropped, is queued as a new delivery of
the same event (its event must have been kept: history.bodies: all keeps every one, failures
only those of failed deliveries); a webhook no route took is routed again by the routes in
force now. A delivery still queued, held or retrying is left to its queue. Fix what made them
fail first (the receiver, the config).
  --ticket ID        the deliveries of this ticket's webhooks
  --target T         the deliveries to target T
  --outcome OUTCOME  the deliveries in this state now: dead (dead letters), delivered,
                     dropped, failed (a try failed) or no-route (webhooks no route took)
  RECEIPT_ID...      every delivery of these webhooks
  --since 1h         with --ticket, --target or --outcome: of webhooks received within this long
  --dry-run          say what it would queue, and queue nothing
  --json             { plan: { replays, cannot }, result: { replayed, cannot }, unknown }
                     (no result with --dry-run; unknown: receipt ids not in the history)

--ticket, --target and --outcome combine (--target crm --outcome dead). Exit 0 when
everything it could queue was queued (or, with --dry-run, would be), also when nothing
matched; exit 1 when a receipt id named is not in the history, or when deliveries were found
but none of them can be queued.`,
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        ticket: { type: "string" },
        target: { type: "string" },
        outcome: { type: "string" },
        since: { type: "string" },
        "dry-run": { type: "boolean" },
        json: { type: "boolean" },
      },
      true,
    );
    const selector = selectorFrom(positionals, values);
    const dryRun = values["dry-run"] === true;
    return withHistory(values.config, async ({ history, disabledTargets }) => {
      const unknown = "receipts" in selector ? await unknownReceipts(history.reader, selector.receipts) : [];
      const plan = await history.replays.plan(selector);
      for (const id of unknown) console.error(notInHistory(id));
      if (!values.json) console.log(planText(plan));
      const result =
        dryRun || plan.replays.length === 0 ? undefined : await history.replays.replay(plan, "events replay");
      if (values.json) printJson({ plan, ...(result && { result }), unknown });
      else if (result) {
        console.log(`queued ${deliveries(result.replayed)}`);
        for (const cannot of result.cannot.slice(plan.cannot.length)) console.log(`  cannot ${cannotText(cannot)}`);
      }
      // A replay to a disabled target only makes the same dead letter again.
      const targets = new Set(plan.replays.map((replay) => replay.target));
      for (const [target, off] of await disabledTargets.list()) {
        if (!targets.has(target)) continue;
        console.error(
          `note: target ${target} is disabled (${off.reason}); run \`ticket-relay targets enable ${target}\``,
        );
      }
      const nothingPossible = plan.replays.length === 0 && plan.cannot.length > 0;
      return unknown.length > 0 || nothingPossible || (result && result.replayed === 0) ? 1 : 0;
    });
  },
};

/**
 * Receipt ids, or filters, never both and never none: a replay of everything must be asked for
 * by a filter, not be what a forgotten argument does.
 */
function selectorFrom(
  receipts: string[],
  values: { ticket?: string; target?: string; outcome?: string; since?: string },
): ReplaySelector {
  const filtered = values.ticket !== undefined || values.target !== undefined || values.outcome !== undefined;
  if (receipts.length > 0 && filtered) {
    throw new UsageError("name webhooks by RECEIPT_ID, or select by --ticket, --target and --outcome, not both");
  }
  if (receipts.length > 0) {
    if (values.since !== undefined)
      throw new UsageError("--since narrows --ticket, --target or --outcome, not webhooks named by id");
    return { receipts };
  }
  if (!filtered) throw new UsageError("name webhooks by RECEIPT_ID, or select them by --ticket, --target or --outcome");
  return {
    ticket: values.ticket,
    target: values.target,
    outcome: outcomeOption(values.outcome),
    since: durationOption("--since", values.since),
  };
}

/** Receipt ids the history has no record of: the plan leaves them out without a word. */
async function unknownReceipts(
  reader: { stories(ids: readonly string[]): Promise<unknown[]> },
  receipts: string[],
): Promise<string[]> {
  const stories = await reader.stories(receipts);
  return receipts.filter((_, index) => stories[index] === undefined);
}

/** What the plan would queue, then what it cannot: printed before anything is queued. */
function planText(plan: ReplayPlan): string {
  const n = plan.replays.length;
  const lines = [`would queue ${deliveries(n)}${n > 0 ? ":" : ""}`];
  for (const replay of plan.replays.slice(0, maxListed)) {
    lines.push(`  ${replay.delivery} to ${replay.target} (${replay.how}, received ${replay.receivedAt})`);
  }
  if (n > maxListed) lines.push(`  … and ${n - maxListed} more (--json lists them all)`);
  if (plan.cannot.length > 0) {
    lines.push(`cannot queue ${plan.cannot.length}:`);
    for (const cannot of plan.cannot.slice(0, maxListed)) lines.push(`  ${cannotText(cannot)}`);
    if (plan.cannot.length > maxListed)
      lines.push(`  … and ${plan.cannot.length - maxListed} more (--json lists them all)`);
  }
  return lines.join("\n");
}

function deliveries(n: number): string {
  return n === 1 ? "1 delivery" : `${n} deliveries`;
}

function cannotText(cannot: ReplayPlan["cannot"][number]): string {
  return `${cannot.delivery ?? cannot.receipt}: ${cannot.why}`;
}

import type { DeadLetterDetail } from "../../queue/dead-letters.js";
import { type Command, parseOptions, UsageError } from "../command.js";
import { wouldSendText } from "../dry-run.js";
import { age, printJson } from "../output.js";
import { withRelayState } from "../relay-state.js";

export const dlqShow: Command = {
  name: "dlq show",
  help: `Usage: ticket-relay dlq show ID [--json] [--config FILE]

Shows one dead letter in full: its target, route, ticket and event; when it was queued and
when it gave up; its first and last error and every try; and the message a replay would send,
rendered for its target (Slack blocks, the email, or the HTTP body).
  --json   the same as one JSON object`,
  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } }, true);
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new UsageError("dlq show takes one delivery id");
    return withRelayState(values.config, async ({ deadLetters }) => {
      const letter = await deadLetters.show(id);
      if (!letter) {
        console.error(notFound(id));
        return 1;
      }
      if (values.json) printJson(letter);
      else console.log(describe(letter));
      return 0;
    });
  },
};

/** Said for an id that names no dead letter, by every dlq command. */
export function notFound(id: string): string {
  return `no dead letter "${id}": delivered, replayed, purged or still being tried (see \`ticket-relay dlq list\`)`;
}

function describe(letter: DeadLetterDetail): string {
  const when = (iso: string) => `${iso} (${age(iso)} ago)`;
  const lines = [
    `id           ${letter.id}`,
    `target       ${letter.target}`,
    `route        ${letter.route}`,
    `event        ${letter.eventType} from ${letter.source}${letter.ticketId ? `, ticket ${letter.ticketId}` : ""}`,
    `queued       ${when(letter.queuedAt)}`,
    `gave up      ${when(letter.failedAt)} after ${letter.tries} ${letter.tries === 1 ? "try" : "tries"}`,
    `first error  ${letter.firstError.at}  ${letter.firstError.reason}`,
    `last error   ${letter.lastError.at}  ${letter.lastError.reason}`,
  ];
  if (letter.fallbackFor) {
    lines.push(`fallback for ${letter.fallbackFor.targetId}, which gave up: ${letter.fallbackFor.reason}`);
  }
  lines.push("", "log", ...letter.log.map((line) => `  ${line}`));
  lines.push(
    "",
    `a replay would send (${letter.message.type}, to ${letter.message.to}):`,
    wouldSendText(letter.message),
  );
  return lines.join("\n");
}

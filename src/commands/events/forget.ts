import { type Command, parseOptions, UsageError } from "../command.js";
import { counted, printJson } from "../output.js";
import { withHistory } from "./with-history.js";

export const eventsForget: Command = {
  name: "events forget",
  help: `Usage: ticket-relay events forget --ticket ID [--json] [--config FILE]

Forgets one ticket (or chat, or SMS customer), for a request to erase a customer's data: every
history record of its webhooks and their kept bodies, its dead letters (which hold its events),
and what targets keep of its conversation (the Slack thread's root: a later event of the
ticket starts a new thread). Deliveries still in the queue are left to finish: they go out, or
end as dead letters to purge with \`ticket-relay dlq purge\`. Webhooks about several tickets
are forgotten whole.
  --ticket ID   the ticket to forget
  --json        the counts as JSON: { webhooks, deadLetters, conversationKeys }`,
  async run(args) {
    const { values } = parseOptions(args, {
      config: { type: "string" },
      ticket: { type: "string" },
      json: { type: "boolean" },
    });
    if (values.ticket === undefined || values.ticket === "") throw new UsageError("events forget needs --ticket ID");
    const ticketId = values.ticket;
    return withHistory(values.config, async ({ history }) => {
      const forgotten = await history.forget(ticketId);
      if (values.json) printJson(forgotten);
      else {
        const removed = [
          counted(forgotten.webhooks, "webhook record"),
          counted(forgotten.deadLetters, "dead letter"),
          counted(forgotten.conversationKeys, "conversation key"),
        ];
        console.log(`forgot ticket ${ticketId}: removed ${removed.join(", ")}`);
      }
      return 0;
    });
  },
};

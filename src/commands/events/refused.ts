import { type Command, parseOptions } from "../command.js";
import { age, oneLine, printJson, table } from "../output.js";
import { withHistory } from "./with-history.js";

export const eventsRefused: Command = {
  name: "events refused",
  help: `Usage: ticket-relay events refused [--source S] [--json] [--config FILE]

Lists the webhook requests the relay refused, newest first: how long ago, the source (or
"(unknown)" for a path that names no source), the status it answered, why (a ?token= or a
verify token that does not match, JSON that does not parse, a body over the limit …) and the
client's address (a proxy's, behind one). What answers "the platform says it sends, but nothing
arrives". Neither the body nor any token is kept; the last history.refused (1000) per source
are.
  --source S   only those to source S
  --json       as a JSON array of { at, source, method, status, reason, client }`,
  async run(args) {
    const { values } = parseOptions(args, {
      config: { type: "string" },
      source: { type: "string" },
      json: { type: "boolean" },
    });
    return withHistory(values.config, async ({ history }) => {
      const refused = await history.refused(values.source);
      if (values.json) printJson(refused);
      else if (refused.length === 0) console.log("no refused requests");
      else {
        const now = Date.now();
        const rows = refused.map((request) => [
          age(request.at, now),
          request.source,
          String(request.status),
          request.client,
          oneLine(request.reason, 160),
        ]);
        console.log(table(["AGE", "SOURCE", "STATUS", "CLIENT", "REASON"], rows));
      }
      return 0;
    });
  },
};

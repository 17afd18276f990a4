import { resolveConfigPath } from "../config/load.js";
import { defaultSonarApiUrl, registerSonarWebhook, sonarEndpoint, sonarEventTypes } from "../sources/sonar/register.js";
import { type Command, UsageError } from "./command.js";
import { loadOrReport } from "./load-config.js";
import { parseSharedOptions } from "./shared-options.js";

export const sonarRegister: Command = {
  name: "sonar register",
  help: `Usage: ticket-relay sonar register --source ID --url PUBLIC_URL [--events a,b] [--name NAME] [--config FILE]

Creates the webhook on Sonar for the type: sonar source ID, pointed at
PUBLIC_URL/webhooks/ID with the source's urlToken. Subscribes to every Sonar event, or to those
named with --events. The API token comes from $SONAR_API_TOKEN (Company Settings → Private Token).`,
  async run(argv) {
    const args = parseSharedOptions(argv);
    const file = resolveConfigPath(args.config);
    if (!args.source || !args.url) throw new UsageError("sonar register needs --source ID and --url PUBLIC_URL");
    const config = await loadOrReport(file);
    if (!config) return 1;
    const source = config.sources[args.source];
    if (source?.type !== "sonar") {
      const sonarIds = Object.entries(config.sources).flatMap(([id, s]) => (s.type === "sonar" ? [id] : []));
      console.error(`${file}: no sonar source "${args.source}" (sonar sources: ${sonarIds.join(", ") || "none"})`);
      return 1;
    }
    const events = args.events ?? [...sonarEventTypes];
    const unknown = events.filter((event) => !(sonarEventTypes as readonly string[]).includes(event));
    if (unknown.length > 0) {
      console.error(`unknown Sonar event ${unknown.join(", ")}; Sonar offers ${sonarEventTypes.join(", ")}`);
      return 2;
    }
    const apiToken = process.env.SONAR_API_TOKEN;
    if (!apiToken) {
      console.error("set SONAR_API_TOKEN to your Sonar API token (Company Settings → Private Token)");
      return 1;
    }
    let endpoint: string;
    try {
      endpoint = sonarEndpoint(args.url, args.source, source.urlToken);
    } catch {
      console.error(`--url must be a URL such as https://relay.example.com, not "${args.url}"`);
      return 2;
    }
    const shown = endpoint.replace(/([?&]token=)[^&]*/, "$1…");
    const result = await registerSonarWebhook({
      apiUrl: process.env.SONAR_API_URL ?? defaultSonarApiUrl,
      apiToken,
      name: args.name ?? `ticket-relay ${args.source}`,
      endpoint,
      events,
    }).catch((error: Error) => ({ ok: false, status: 0, body: error.message }));
    if (!result.ok) {
      const detail = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
      console.error(`Sonar refused the webhook (${result.status || "no answer"}): ${detail.slice(0, 500)}`);
      return 1;
    }
    console.log(`Sonar webhook created: ${events.length} event${events.length === 1 ? "" : "s"} → ${shown}`);
    return 0;
  },
};

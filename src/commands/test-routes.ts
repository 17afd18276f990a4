import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { formatProblem } from "../config/errors.js";
import { resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { createSources } from "../sources/registry.js";
import { InvalidPayload, type Source } from "../sources/source.js";
import { type Command, parseOptions } from "./command.js";
import { type DryRunEvent, type DryRunMessage, dryRun, readJsonFile, sourceForPayload } from "./dry-run.js";
import { loadOrReport } from "./load-config.js";
import { counted } from "./output.js";
import { loadRouteTestFile, type RouteTestCase } from "./route-test-file.js";

export const testRoutes: Command = {
  name: "test",
  help: `Usage: ticket-relay test [--config FILE] [FILE...]

Runs the route tests kept beside the config: by default every tests/*.yaml in the config
file's folder (config/tests/ for config/relay.yaml). A test file is a list of cases:

  - name: a status change from open to pending goes to Slack
    payload: ../../test/fixtures/socialboards/ticket_status_change.json
    expect:
      targets: [support-slack]          # every target it reaches, in any order; [] for none
    contains:                           # optional: texts each target's message must contain
      support-slack: ["open → pending"]

payload is a JSON file relative to the test file (test/fixtures/… also finds the samples
shipped with the relay), or the webhook body itself as a mapping. source: ID names the
source it is for (default: the first socialboards source for a body with EventType or Events,
the first sonar source for one with action). receivedAt: 2026-12-24T03:00:00+01:00 routes it
as if received then, for routes with activeDuring or mutedDuring (default: now). Nothing is
sent and no Redis is needed.
Prints one pass or FAIL line per case, saying what differed, then a summary.
Exit 0 when every case passed; 1 when one failed, a test file has a problem (with its file,
line and key) or there is no test file; 2 on a usage error.`,

  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" } }, true);
    const configFile = resolveConfigPath(values.config);
    const config = await loadOrReport(configFile);
    if (!config) return 1;
    const files = positionals.length > 0 ? positionals : await testFilesBeside(configFile);
    if (files.length === 0) {
      console.error(
        `no route tests: ${join(dirname(configFile), "tests")} has no .yaml file (see ticket-relay test --help)`,
      );
      return 1;
    }

    const sources = createSources(config);
    let passed = 0;
    let failed = 0;
    let malformed = 0;
    for (const file of files) {
      const loaded = await loadRouteTestFile(file);
      if ("problems" in loaded) {
        malformed += 1;
        console.error(
          `${file}: ${counted(loaded.problems.length, "problem")}\n${loaded.problems.map(formatProblem).join("\n")}`,
        );
        continue;
      }
      for (const testCase of loaded.cases) {
        const differences = await runCase(config, sources, testCase);
        if (differences.length === 0) {
          passed += 1;
          console.log(`pass  ${testCase.name}`);
        } else {
          failed += 1;
          console.log(`FAIL  ${testCase.name} (${testCase.at}): ${differences.join("; ")}`);
        }
      }
    }
    const summary = `${counted(passed + failed, "case")}: ${passed} passed, ${failed} failed`;
    console.log(malformed > 0 ? `${summary}; ${counted(malformed, "test file")} with problems (above)` : summary);
    return failed === 0 && malformed === 0 ? 0 : 1;
  },
};

/** `config/tests/*.yaml` for `config/relay.yaml`, sorted; none when the folder is missing. */
async function testFilesBeside(configFile: string): Promise<string[]> {
  const folder = join(dirname(configFile), "tests");
  const names = await readdir(folder).catch(() => []);
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(folder, name));
}

/** What differs from the case's expectations; nothing when it passes. */
async function runCase(
  config: Config,
  sources: ReadonlyMap<string, Source>,
  testCase: RouteTestCase,
): Promise<string[]> {
  let body: unknown;
  if ("body" in testCase.payload) body = testCase.payload.body;
  else {
    const read = await readJsonFile(testCase.payload.file);
    if ("unreadable" in read) return [`payload ${read.unreadable}`];
    body = read.json;
  }
  const chosen = sourceForPayload(sources, body, testCase.source, "source: <id>");
  if ("refused" in chosen) return [chosen.refused];
  let events: DryRunEvent[];
  try {
    events = dryRun(config, chosen.source, body, testCase.receivedAt);
  } catch (error) {
    if (error instanceof InvalidPayload) return [`payload: ${error.message}`];
    throw error;
  }

  const differences: string[] = [];
  const got = [...new Set(events.flatMap((event) => event.targets))];
  const missing = testCase.targets.filter((target) => !got.includes(target));
  const unexpected = got.filter((target) => !testCase.targets.includes(target));
  if (missing.length > 0 || unexpected.length > 0) {
    differences.push(`expected ${listed(testCase.targets)}, got ${listed(got)}`, ...whyNot(config, events, missing));
  }
  const messages = events.flatMap((event) => event.messages);
  for (const [target, texts] of Object.entries(testCase.contains)) {
    const sent = messages.filter((message) => message.target === target);
    if (sent.length === 0) {
      const what = config.targets[target] ? "which gets no message" : "which is no target in the config";
      differences.push(`contains names ${target}, ${what}`);
      continue;
    }
    const text = sent.flatMap(readableText).join("\n");
    for (const fragment of texts) {
      if (!text.includes(fragment)) differences.push(`${target}'s message lacks "${fragment}"`);
    }
  }
  return differences;
}

/** For each target it should have reached: why each route that names it did not take the event. */
function whyNot(config: Config, events: DryRunEvent[], missing: string[]): string[] {
  const reasons = new Set<string>();
  for (const event of events) {
    config.routes.forEach((route, index) => {
      if (!route.to.some((target) => missing.includes(target))) return;
      const verdict = event.routes[index];
      if (!verdict || verdict.matched) return;
      reasons.add(`${verdict.route}: ${"notTried" in verdict ? `not tried, ${verdict.notTried}` : verdict.reason}`);
    });
  }
  return [...reasons];
}

function listed(targets: string[]): string {
  return targets.length === 0 ? "none" : `[${targets.join(", ")}]`;
}

/** Every text of a message as sent (Slack text and blocks, the email's subject and text, the HTTP body). */
function readableText(message: DryRunMessage): string[] {
  const { type: _type, to: _to, target: _target, route: _route, ...sent } = message;
  if ("html" in sent) {
    const { html: _html, ...plain } = sent;
    return strings(plain);
  }
  return strings(sent);
}

function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value === "number" || typeof value === "boolean") return [String(value)];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

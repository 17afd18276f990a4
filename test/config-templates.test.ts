import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";
import { runCli, writeConfig } from "./support/cli-run.js";

/** A config whose Slack target's template is `slackTemplate` (indented under `template:`, line 9 on). */
function configWith(slackTemplate: string, more = ""): string {
  return `sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack:
    type: slack
    token: xoxb-test
    template:
${slackTemplate}
  oncall-email: { type: email, smtp: "smtp://127.0.0.1:2525", from: relay@example.com, to: oncall@example.com }
  crm: { type: http, url: "https://crm.example.com/hooks" }
${more}`.replace("    token: xoxb-test\n", '    token: xoxb-test\n    channel: "#support"\n');
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, "relay.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("templates in the config", () => {
  it("accepts templates that use the documented variables and filters", () => {
    const config = parseConfig(
      configWith(
        `      title: "{{ event.status | upcase }}: {{ event.ticket.title | default: message.title }}"
      text: |
        {% if event.previousStatus %}{{ event.previousStatus }} → {% endif %}{{ event.status }}
        {% for field in message.fields %}*{{ field.label }}*: {{ field.value }}
        {% endfor %}{{ event.tags | join: ", " }} {{ event.customer.name }} {{ event.author.name }}
        {{ message.excerpt }} {{ message.link.url }} {{ event.message.text }} {{ route }}
        {{ event.tags[3] }} {{ message.fields[20].value }} {{ event.tags.size }} {{ event.ticket.title.size }}`,
      ),
      "relay.yaml",
      {},
    );
    expect(config.targets["support-slack"]).toMatchObject({ template: { title: expect.stringContaining("upcase") } });
  });

  it("refuses a template with a syntax error, with file, line and key", () => {
    expect(problemsOf(configWith('      text: "Ticket {{ event.ticketId "'))).toEqual([
      'relay.yaml:9:13 targets.support-slack.template.text: template syntax: output "{{ event.ticketId " not closed (template line 1, column 8)',
    ]);
  });

  it("refuses an unknown variable, even in a branch no sample takes, and suggests the right one", () => {
    const template = `      title: "{{ event.status }}"
      text: |
        {% if event.status == "never" %}
        {{ event.custmer.name }}
        {% endif %}`;
    expect(problemsOf(configWith(template))).toEqual([
      'relay.yaml:10:13 targets.support-slack.template.text: unknown variable event.custmer (template line 2, column 4) — did you mean "event.customer"?',
    ]);
  });

  it("refuses an unknown property of a loop variable, found by rendering a sample of every event type", () => {
    const problems = problemsOf(configWith('      text: "{% for f in message.fields %}{{ f.lable }}{% endfor %}"'));
    expect(problems).toEqual([
      "relay.yaml:9:13 targets.support-slack.template.text: unknown variable f.lable (template line 1, column 33)",
    ]);
  });

  it("refuses an unknown filter, and the tags that would read files", () => {
    expect(
      problemsOf(configWith(`      title: "{{ event.status | upcse }}"\n      text: "{% include 'footer' %}"`)),
    ).toEqual([
      'relay.yaml:9:14 targets.support-slack.template.title: template syntax: unknown filter "upcse" (template line 1, column 1) — did you mean "upcase"?',
      'relay.yaml:10:13 targets.support-slack.template.text: template syntax: tag "include" not found (template line 1, column 1) — a template cannot read files',
    ]);
  });

  it("refuses a template on an HTTP target, and a route's template for a kind of target it does not send to", () => {
    const text = configWith(
      '      title: "{{ message.title }}"',
      `routes:
  - name: to-crm
    to: [crm]
    template:
      email: { subject: "{{ message.title }}" }
`,
    ).replace(
      '{ type: http, url: "https://crm.example.com/hooks" }',
      '{ type: http, url: "https://crm.example.com/hooks", template: { text: "{{ message.title }}" } }',
    );
    expect(problemsOf(text)).toEqual([
      "relay.yaml:11:70 targets.crm.template: HTTP targets send JSON (docs/targets/http.md) and take no template",
      "relay.yaml:16:14 routes[0].template.email: no target of this route (crm), nor a fallback of one, is an email target",
    ]);
  });

  it("refuses a route template on a route whose name another route has too", () => {
    const text = configWith(
      '      title: "{{ message.title }}"',
      `routes:
  - { name: support, to: [oncall-email] }
  - name: support
    to: [support-slack]
    template: { slack: { text: "{{ message.title }}" } }
`,
    );
    expect(problemsOf(text)).toEqual([
      'relay.yaml:14:11 routes[1].name: routes[0] is named "support" too; a route with a template needs a name of its own',
    ]);
  });

  it("is what `ticket-relay check` reports, with file:line:key", async () => {
    const file = writeConfig(configWith('      text: "{{ event.custmer.name }}"'));
    const { code, stdout, stderr } = await runCli(["check", "--config", file]);
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`).toContain(
      `${file}:9:13 targets.support-slack.template.text: unknown variable event.custmer (template line 1, column 4) — did you mean "event.customer"?`,
    );
  });
});

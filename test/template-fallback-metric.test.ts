import { describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import { describeEvent } from "../src/messages/describe.js";
import { compileTemplates, type TemplateFailure } from "../src/messages/templates.js";
import { createRelayMetrics } from "../src/metrics/relay-metrics.js";

/**
 * A template that fails at delivery sends the default message. The log names each template's
 * first failure only, so that a broken template cannot flood it; how often it failed is a metric.
 */
const event: RelayEvent = {
  id: "r.0",
  source: "socialboards",
  sourceType: "socialboards",
  type: "ticket_status_change",
  known: true,
  receivedAt: "2026-11-24T10:00:00.000Z",
  ticketId: "4478963",
  status: "pending",
  raw: {},
};
// Past the render's memory limit (messages/templates.ts): it parses, and fails on every render.
const tooBig = "{% for i in (1..20000000) %}{{ i }}{% endfor %}";
const templates = compileTemplates({
  targets: { "support-slack": { type: "slack", template: { text: tooBig } } },
  routes: [{ name: "pending", template: { slack: { title: "{{ event.status }}" } } }],
});

describe("a template that fails at delivery", () => {
  it("marks every default message sent in its place, while the log hears of the first failure only", () => {
    const warned: TemplateFailure[] = [];
    const sent = [1, 2, 3].map(() =>
      templates.apply(describeEvent(event), { targetId: "support-slack", route: "pending" }, (failure) =>
        warned.push(failure),
      ),
    );
    for (const message of sent) {
      expect(message.templated).toBeUndefined();
      expect(message.templateFailure?.template).toBe("targets.support-slack.template.text");
      expect(message.templateFailure?.reason).toMatch(/memory/i);
    }
    expect(warned).toHaveLength(1);
  });

  it("leaves a message whose template worked unmarked", () => {
    const fine = compileTemplates({
      targets: { "support-slack": { type: "slack", template: { text: "{{ event.status }}" } } },
      routes: [],
    });
    const message = fine.apply(describeEvent(event), { targetId: "support-slack", route: "pending" });
    expect(message.templated?.text).toBe("pending");
    expect(message.templateFailure).toBeUndefined();
  });

  it("is counted by target and route in ticket_relay_template_fallbacks_total", async () => {
    const metrics = createRelayMetrics({ readQueues: async () => ({ queues: [], deadLetters: 0 }) });
    metrics.deliveries.templateFellBack("support-slack", "pending");
    metrics.deliveries.templateFellBack("support-slack", "pending");
    metrics.deliveries.templateFellBack("support-email", "urgent");
    const text = await metrics.registry.getSingleMetricAsString("ticket_relay_template_fallbacks_total");
    expect(text).toContain('ticket_relay_template_fallbacks_total{target="support-slack",route="pending"} 2');
    expect(text).toContain('ticket_relay_template_fallbacks_total{target="support-email",route="urgent"} 1');
  });
});

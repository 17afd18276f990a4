import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeEvent } from "../src/messages/describe.js";
import { renderEmail } from "../src/messages/email.js";
import { renderSlack } from "../src/messages/slack.js";
import { deliveryFooter } from "../src/queue/delivery/delivery-message.js";
import { createSocialboardsSource } from "../src/sources/socialboards/source.js";
import { createSonarSource } from "../src/sources/sonar/source.js";
import type { Source } from "../src/sources/source.js";

/**
 * Golden files: the default Slack and email rendering of every fixture, committed under
 * test/golden/, so a change in wording shows up in review as a diff of what agents will read.
 * After an intended change: `npx vitest run test/messages-golden.test.ts -u`, then read the diff.
 */
const sources: Record<string, Source> = {
  socialboards: createSocialboardsSource("socialboards", {
    type: "socialboards",
    verifyToken: "v",
    urlToken: undefined,
  }),
  sonar: createSonarSource("sonar", { type: "sonar", urlToken: undefined }),
};
const receipt = (source: string) => ({ id: "golden", source, receivedAt: "2026-11-24T10:00:00.000Z" });

describe.each(Object.keys(sources))("default messages for every %s event", (sourceType) => {
  const dir = new URL(`fixtures/${sourceType}/`, import.meta.url);
  const fixtures = readdirSync(dir).filter((file) => file.endsWith(".json"));

  it.each(fixtures)("%s", async (file) => {
    const payload = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
    const events = sources[sourceType]?.normalize(payload, receipt(sourceType)) ?? [];
    expect(events).toHaveLength(1);
    // The footer as a delivery by route `support` sets it (queue/delivery/delivery-message.ts).
    const message = { ...describeEvent(events[0] as (typeof events)[0]), footer: deliveryFooter("support") };
    const slack = renderSlack(message);
    const email = renderEmail(message);
    const golden = [
      "== Slack text",
      slack.text,
      "== Slack blocks",
      JSON.stringify(slack.blocks, null, 2),
      "== Email subject",
      email.subject,
      "== Email text",
      email.text,
      "== Email HTML",
      email.html,
      "",
    ].join("\n");
    await expect(golden).toMatchFileSnapshot(`golden/${sourceType}/${file.replace(/\.json$/, ".txt")}`);
  });
});

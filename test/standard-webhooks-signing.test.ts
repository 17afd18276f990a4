import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  isStandardWebhookSecret,
  signedHeaders,
  verifyStandardWebhookSignature,
} from "../src/signing/standard-webhooks.js";

const secret = `whsec_${Buffer.from("a 32-byte key for signing tests!").toString("base64")}`;
const body = JSON.stringify({ deliveryId: "evt_1.0.crm", title: "Ticket #1" });

/** Checked against the reference implementation, so both sides of the relay speak the standard. */
describe("Standard Webhooks signing", () => {
  it("signs so that the reference verifier accepts the request", () => {
    const headers = signedHeaders(secret, "evt_1.0.crm", body);
    expect(headers["webhook-id"]).toBe("evt_1.0.crm");
    expect(headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("verifies what the reference implementation signs, among several signatures during a key rotation", () => {
    const at = new Date();
    const timestamp = String(Math.floor(at.getTime() / 1000));
    const signature = new Webhook(secret).sign("msg_1", at, body);
    const header = `v1,bm90IHRoaXMgb25l ${signature}`;
    expect(verifyStandardWebhookSignature(secret, "msg_1", timestamp, Buffer.from(body), header)).toBe(true);
  });

  it("rejects another body, another id and another secret", () => {
    const { "webhook-timestamp": timestamp, "webhook-signature": signature } = signedHeaders(secret, "msg_1", body);
    const other = `whsec_${Buffer.from("some other key").toString("base64")}`;
    expect(verifyStandardWebhookSignature(secret, "msg_1", timestamp, Buffer.from(`${body} `), signature)).toBe(false);
    expect(verifyStandardWebhookSignature(secret, "msg_2", timestamp, Buffer.from(body), signature)).toBe(false);
    expect(verifyStandardWebhookSignature(other, "msg_1", timestamp, Buffer.from(body), signature)).toBe(false);
    expect(verifyStandardWebhookSignature(secret, "msg_1", timestamp, Buffer.from(body), "v1,c2hvcnQ=")).toBe(false);
  });

  const exampleKey = Buffer.from("an example key, not anyone's").toString("base64");
  it.each([
    [secret, true],
    // Built here rather than written out, so no secret scanner takes a test key for a real one.
    [`whsec_${exampleKey}`, true],
    [exampleKey, false],
    ["whsec_", false],
    ["whsec_not base64!", false],
    ["whsec_abc", false],
  ])("takes %s as a signing secret: %s", (candidate, valid) => {
    expect(isStandardWebhookSecret(candidate)).toBe(valid);
  });
});

import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } from "@slack/web-api";
import { describe, expect, it } from "vitest";
import { failureOfStatus, networkFailure, retryAfterMs } from "../src/targets/failure.js";
import { classifySlackError } from "../src/targets/slack.js";
import { PermanentFailure, RetryLater, TargetGone } from "../src/targets/target.js";

/** The kind of failure, most specific first: TargetGone is also a PermanentFailure. */
const kindOf = (error: Error) =>
  error instanceof TargetGone
    ? "gone"
    : error instanceof PermanentFailure
      ? "permanent"
      : error instanceof RetryLater
        ? "retry"
        : "other";

describe("the shared classification of an HTTP status", () => {
  it.each([
    [408, "retry"],
    [425, "retry"],
    [429, "retry"],
    [500, "retry"],
    [502, "retry"],
    [503, "retry"],
    [504, "retry"],
    [599, "retry"],
    [400, "permanent"],
    [401, "permanent"],
    [403, "permanent"],
    [404, "permanent"],
    [405, "permanent"],
    [409, "permanent"],
    [413, "permanent"],
    [422, "permanent"],
    [410, "gone"],
    [300, "permanent"],
    [301, "permanent"],
    [302, "permanent"],
    [303, "permanent"],
    [307, "permanent"],
    [308, "permanent"],
  ])("treats %i as %s", (status, kind) => {
    expect(kindOf(failureOfStatus(status, `answered ${status}`))).toBe(kind);
  });

  it("keeps the caller's reason, and says that a redirect is not followed", () => {
    expect(failureOfStatus(503, "HTTP crm answered 503").message).toBe("HTTP crm answered 503");
    expect(failureOfStatus(302, "HTTP crm answered 302").message).toMatch(
      /^HTTP crm answered 302 — redirects are not followed/,
    );
  });

  const now = Date.parse("2026-11-24T10:00:00Z");
  it.each([
    [429, "120", 120_000],
    [503, "5", 5_000],
    [503, "0", 0],
    [429, "Tue, 24 Nov 2026 10:00:30 GMT", 30_000],
    [503, "Tue, 24 Nov 2026 09:59:00 GMT", 0],
    [429, "soon", undefined],
    [429, "-5", undefined],
    [429, "1.5", undefined],
    [429, undefined, undefined],
    // Only a rate limit and "unavailable" say when to come back; elsewhere the header is ignored.
    [500, "5", undefined],
    [502, "5", undefined],
    [408, "5", undefined],
  ])("reads the wait a %i asks for with Retry-After %s as %s ms", (status, header, afterMs) => {
    const failure = failureOfStatus(status, "reason", header, now);
    expect(failure).toBeInstanceOf(RetryLater);
    expect((failure as RetryLater).afterMs).toBe(afterMs);
  });

  it("takes the first Retry-After when a header is repeated", () => {
    expect(retryAfterMs(["7", "9"], now)).toBe(7_000);
  });

  it("treats a network error or a timeout as worth another try", () => {
    const failure = networkFailure("HTTP crm: connection refused (ECONNREFUSED)");
    expect(kindOf(failure)).toBe("retry");
    expect(failure.message).toBe("HTTP crm: connection refused (ECONNREFUSED)");
  });
});

describe("the classification of a Slack error", () => {
  const platform = (code: string) => new WebAPIPlatformError({ ok: false, error: code });

  it.each([
    ["channel_not_found", "permanent"],
    ["not_in_channel", "permanent"],
    ["invalid_auth", "permanent"],
    ["account_inactive", "permanent"],
    ["is_archived", "permanent"],
    ["invalid_blocks", "permanent"],
    ["a_code_slack_adds_next_year", "permanent"],
    ["ratelimited", "retry"],
    ["internal_error", "retry"],
    ["fatal_error", "retry"],
    ["service_unavailable", "retry"],
    ["request_timeout", "retry"],
    ["team_added_to_org", "retry"],
  ])("treats the platform error %s as %s", (code, kind) => {
    const failure = classifySlackError(platform(code));
    expect(kindOf(failure)).toBe(kind);
    expect(failure.message).toBe(`Slack: ${code}`);
  });

  it("waits out a rate limit for as long as Slack asks", () => {
    const failure = classifySlackError(new WebAPIRateLimitedError(30));
    expect(failure).toBeInstanceOf(RetryLater);
    expect((failure as RetryLater).afterMs).toBe(30_000);
  });

  it.each([
    [500, {}, "retry", undefined],
    [503, { "retry-after": "7" }, "retry", 7_000],
    [429, { "retry-after": "3" }, "retry", 3_000],
    [404, {}, "permanent", undefined],
    [302, {}, "permanent", undefined],
    [410, {}, "gone", undefined],
  ])("classifies HTTP %i from Slack with the shared status rule", (status, headers, kind, afterMs) => {
    const failure = classifySlackError(new WebAPIHTTPError(status, "", headers as Record<string, string>));
    expect(kindOf(failure)).toBe(kind);
    expect(failure.message).toMatch(new RegExp(`^Slack answered HTTP ${status}`));
    if (failure instanceof RetryLater) expect(failure.afterMs).toBe(afterMs);
  });

  it("retries when Slack cannot be reached", () => {
    const failure = classifySlackError(new WebAPIRequestError(new Error("socket hang up")));
    expect(kindOf(failure)).toBe("retry");
    expect(failure.message).toBe("Slack unreachable: socket hang up");
  });
});

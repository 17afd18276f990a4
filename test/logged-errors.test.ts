import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  });
  return { logger, lines };
}

describe("a logged error", () => {
  it("keeps its class, message, stack, code and cause", () => {
    const { logger, lines } = capturingLogger();
    class QueueUnavailable extends Error {
      override name = "QueueUnavailable";
    }
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" });
    logger.warn({ err: new QueueUnavailable("Redis is reconnecting", { cause }) }, "refused");

    const err = lines[0]?.err as Record<string, unknown>;
    expect(err.type).toBe("QueueUnavailable");
    expect(err.message).toBe("Redis is reconnecting: connect ECONNREFUSED 127.0.0.1:6379");
    expect(err.stack).toMatch(/^QueueUnavailable: Redis is reconnecting\n\s+at /);
    expect(err.stack).toContain("caused by: Error: connect ECONNREFUSED");

    logger.warn({ err: cause }, "refused");
    expect(lines[1]?.err).toMatchObject({ type: "Error", code: "ECONNREFUSED" });
  });

  it("leaves out the Redis command arguments ioredis puts on its errors: a password, a webhook's body", () => {
    const { logger, lines } = capturingLogger();
    const wrongPassword = Object.assign(new Error("WRONGPASS invalid username-password pair"), {
      command: { name: "auth", args: ["relay", "redis-password-7c1e"] },
    });
    const aborted = Object.assign(new Error("Command aborted due to connection close"), {
      command: { name: "xadd", args: ["inbound", "*", "body", '{"email":"mira.kowalski@example.org"}'] },
    });
    logger.error({ err: wrongPassword }, "Redis unreachable");
    logger.warn({ err: new AggregateError([aborted], "all failed") }, "routing failed");

    const everything = JSON.stringify(lines);
    expect(everything).not.toContain("redis-password-7c1e");
    expect(everything).not.toContain("mira.kowalski@example.org");
    expect(lines[0]?.err).toMatchObject({ type: "Error", message: "WRONGPASS invalid username-password pair" });
    expect(lines[1]?.err).toMatchObject({
      type: "AggregateError",
      aggregateErrors: [{ message: "Command aborted due to connection close" }],
    });
  });

  it("is logged as it is when it is not an Error, such as a reason given as text", () => {
    const { logger, lines } = capturingLogger();
    logger.warn({ err: "HTTP crm (POST https://crm.example/hooks) answered 500" }, "delivery failed; will retry");
    expect(lines[0]?.err).toBe("HTTP crm (POST https://crm.example/hooks) answered 500");
  });
});

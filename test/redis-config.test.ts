import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";
import { parseAddress, RedisConnector } from "../src/redis/connector.js";

const sources = `
sources:
  socialboards: { type: socialboards, verifyToken: verify-1b2c, urlToken: none }
`;
const parse = (redis: string, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(`redis:\n${redis.replace(/^/gm, "  ")}\n${sources}`, "relay.yaml", env).redis;

function problemsOf(redis: string): string {
  try {
    parse(redis);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("the redis section", () => {
  it("wraps the prefix in a hash tag on a Cluster, so every key of the relay is in one slot", () => {
    expect(parse(`cluster: { nodes: ["redis://10.0.0.1:6379", "10.0.0.2:6379"] }`).prefix).toBe("{relay}");
    expect(parse(`cluster: { nodes: ["10.0.0.1:6379"] }\nprefix: support`).prefix).toBe("{support}");
    expect(parse(`cluster: { nodes: ["10.0.0.1:6379"] }\nprefix: "{support}"`).prefix).toBe("{support}");
    // Elsewhere the prefix stays as written.
    expect(parse(`url: redis://10.0.0.1:6379\nprefix: support`).prefix).toBe("support");
    expect(parse(`sentinel: { name: primary, sentinels: ["10.0.0.1:26379"] }`).prefix).toBe("relay");
  });

  it("explains a prefix whose braces would scatter the relay's keys across a Cluster's slots", () => {
    for (const prefix of ["re{lay}", "{}relay", "{re}{lay}", "{relay"]) {
      expect(problemsOf(`prefix: "${prefix}"`)).toMatch(
        /redis\.prefix: write the prefix without braces .*hash tag itself, \{relay\}/,
      );
    }
  });

  it("refuses two shapes of Redis at once, and TLS files with no rediss:// address", () => {
    expect(problemsOf(`url: redis://10.0.0.1:6379\ncluster: { nodes: ["10.0.0.2:6379"] }`)).toMatch(
      /redis\.cluster: set one of redis\.url, redis\.cluster and redis\.sentinel, not url and cluster/,
    );
    expect(problemsOf(`url: redis://10.0.0.1:6379\ntls: { servername: redis.example.com }`)).toMatch(
      /redis\.tls: no address uses rediss:\/\//,
    );
    expect(problemsOf(`cluster: { nodes: ["rediss://10.0.0.1:6379", "redis://10.0.0.2:6379"] }`)).toMatch(
      /redis\.cluster: use rediss:\/\/ for every address or for none/,
    );
    expect(problemsOf(`url: rediss://10.0.0.1:6379\ntls: { ca: /nonexistent/ca.pem }`)).toMatch(
      /redis\.tls\.ca: cannot read this file/,
    );
    expect(problemsOf(`sentinel: { name: primary, sentinels: ["not an address"] }`)).toMatch(
      /redis\.sentinel\.sentinels\[0\]: use host:port, or a redis:\/\/ or rediss:\/\/ URL/,
    );
  });

  it("takes passwords and ACL users from the environment", () => {
    const redis = parse(
      `sentinel: { name: primary, sentinels: ["redis://:\${SENTINEL_PASSWORD}@10.0.0.1:26379"], username: relay, password: "\${REDIS_PASSWORD}" }`,
      { SENTINEL_PASSWORD: "s3ntinel", REDIS_PASSWORD: "pr1mary" },
    );
    expect(redis.sentinel?.password).toBe("pr1mary");
    expect(parseAddress(redis.sentinel?.sentinels[0] ?? "", 26379)).toEqual({
      host: "10.0.0.1",
      port: 26379,
      password: "s3ntinel",
    });
  });

  it("reads the TLS files once, and names where Redis is without its password", () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-tls-config-"));
    writeFileSync(join(dir, "ca.pem"), "not really a certificate");
    const redis = parse(`url: "rediss://relay:secret@redis.example.com:6380"\ntls: { ca: "${join(dir, "ca.pem")}" }`);
    expect(redis.tls?.ca).toBe(join(dir, "ca.pem"));
    expect(new RedisConnector(redis).where).toBe("rediss://relay:…@redis.example.com:6380");
    expect(new RedisConnector(parse(`cluster: { nodes: ["redis://:pw@10.0.0.1:7000"] }`)).where).toBe(
      "the Redis Cluster at redis://:…@10.0.0.1:7000",
    );
  });
});

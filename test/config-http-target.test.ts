import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";

const secret = `whsec_${Buffer.from("a 24-byte signing key!!!").toString("base64")}`;
/** A signed HTTP target whose secret comes from the environment, as the docs show it. */
const signedCrm = `{ type: http, url: https://crm.example.com/hooks, signingSecret: "\${CRM_SIGNING_SECRET}" }`;
const configWith = (crm: string, top = "") => `${top}
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: ${crm}
`;

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, "relay.yaml", env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("the config of an HTTP target's outbound safety", () => {
  it("refuses private networks unless told otherwise, at the top or on the target", () => {
    const plain = parseConfig(configWith("{ type: http, url: https://crm.example.com/hooks }"), "relay.yaml", {});
    expect(plain.allowPrivateNetwork).toBe(false);
    expect(plain.targets.crm).toMatchObject({ allowPrivateNetwork: false });
    expect((plain.targets.crm as { signingSecret?: string }).signingSecret).toBeUndefined();

    const top = parseConfig(
      configWith("{ type: http, url: http://10.0.0.5/hooks }", "allowPrivateNetwork: true"),
      "relay.yaml",
      {},
    );
    expect(top.allowPrivateNetwork).toBe(true);
    const one = parseConfig(
      configWith("{ type: http, url: http://10.0.0.5/hooks, allowPrivateNetwork: true }"),
      "relay.yaml",
      {},
    );
    expect(one.targets.crm).toMatchObject({ allowPrivateNetwork: true });
  });

  it("takes a whsec_ signing secret from the environment", () => {
    const text = configWith(signedCrm);
    const config = parseConfig(text, "relay.yaml", { CRM_SIGNING_SECRET: secret });
    expect(config.targets.crm).toMatchObject({ signingSecret: secret });
  });

  it.each([
    ["without the whsec_ prefix", secret.slice("whsec_".length)],
    ["that is not base64 after whsec_", "whsec_not-base64-at-all!"],
    ["that is empty after whsec_", "whsec_"],
  ])("refuses a signing secret %s, without repeating it", (_, value) => {
    const text = configWith(signedCrm);
    const problems = problemsOf(text, { CRM_SIGNING_SECRET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^relay\.yaml:4:\d+ targets\.crm\.signingSecret: .*whsec_.*base64/);
    expect(problems[0]).not.toContain(value.slice(6) || "\u0000");
  });

  it("refuses allowPrivateNetwork that is not true or false", () => {
    expect(
      problemsOf(
        configWith("{ type: http, url: https://crm.example.com/hooks }", "allowPrivateNetwork: yes please"),
      ).join("\n"),
    ).toMatch(/allowPrivateNetwork/);
  });
});

import type { Config } from "../config/schema.js";
import { createEmailTarget } from "./email.js";
import { createHttpTarget } from "./http.js";
import { createSlackTarget } from "./slack.js";
import type { Target } from "./target.js";

/** Every configured target by id. A new kind of target is one file plus one case here. */
export function createTargets(config: Config): Map<string, Target> {
  const targets = new Map<string, Target>();
  for (const [id, targetConfig] of Object.entries(config.targets)) {
    switch (targetConfig.type) {
      case "slack":
        targets.set(id, createSlackTarget(id, targetConfig));
        break;
      case "email":
        targets.set(id, createEmailTarget(id, targetConfig));
        break;
      case "http":
        // The top-level allowPrivateNetwork lifts the SSRF guard for every HTTP target at once.
        targets.set(
          id,
          createHttpTarget(id, {
            ...targetConfig,
            allowPrivateNetwork: targetConfig.allowPrivateNetwork || config.allowPrivateNetwork,
          }),
        );
        break;
    }
  }
  return targets;
}

import type { Config, SourceConfig } from "../config/schema.js";
import { createGenericSource } from "./generic/source.js";
import { knownEventTypes as socialboardsEventTypes } from "./socialboards/normalize.js";
import { createSocialboardsSource } from "./socialboards/source.js";
import { sonarEventTypes } from "./sonar/register.js";
import { createSonarSource } from "./sonar/source.js";
import type { Source } from "./source.js";

/** The event types each kind of source emits by name; `undefined`: any name the sender chooses. */
export const eventTypesBySourceType: Record<SourceConfig["type"], readonly string[] | undefined> = {
  socialboards: socialboardsEventTypes,
  sonar: sonarEventTypes,
  generic: undefined,
};

/** Every configured source by id. A new platform is one adapter file plus one case here. */
export function createSources(config: Config): Map<string, Source> {
  const sources = new Map<string, Source>();
  for (const [id, sourceConfig] of Object.entries(config.sources)) {
    switch (sourceConfig.type) {
      case "socialboards":
        sources.set(id, createSocialboardsSource(id, sourceConfig));
        break;
      case "sonar":
        sources.set(id, createSonarSource(id, sourceConfig));
        break;
      case "generic":
        sources.set(id, createGenericSource(id, sourceConfig));
        break;
    }
  }
  return sources;
}

import type { Config } from "./config/schema.js";
import type { Logger } from "./log.js";
import { compileTemplates, type MessageTemplates } from "./messages/templates.js";
import { compileRoutes, type Router } from "./routing/router.js";
import { createSources } from "./sources/registry.js";
import type { Source } from "./sources/source.js";
import { createTargets } from "./targets/registry.js";
import type { Target } from "./targets/target.js";

/**
 * What the config decides in a running relay, built in this one function: its sources, its
 * compiled routes and its targets. A reload is then "build the new parts, swap them in, close
 * the old ones" (LiveParts). What a reload cannot change (ports, Redis, worker settings) is
 * read from the config the relay started with, never from here.
 */
export interface RelayParts {
  config: Config;
  sources: ReadonlyMap<string, Source>;
  router: Router;
  /** Only in roles that deliver: ingest opens no SMTP pool or connection to a target. */
  targets: ReadonlyMap<string, Target>;
  /** The message templates of routes and targets, parsed once. */
  templates: MessageTemplates;
}

export function buildParts(config: Config, options: { withTargets: boolean }): RelayParts {
  return {
    config,
    sources: createSources(config),
    router: compileRoutes(config.routes, config.timeIntervals),
    targets: options.withTargets ? createTargets(config) : new Map(),
    templates: compileTemplates(config),
  };
}

/**
 * Once swapped out, a part set's targets may still be finishing a send a worker started with
 * them; they are closed after this long, longer than any target's timeout.
 */
const retireAfterMs = 60_000;

/** The parts in force now, swapped atomically: a job or request reads them once and uses those. */
export class LiveParts {
  #current: RelayParts;
  readonly #retiring = new Set<RelayParts>();

  constructor(
    initial: RelayParts,
    private readonly logger: Logger,
  ) {
    this.#current = initial;
  }

  get current(): RelayParts {
    return this.#current;
  }

  /** Puts `next` in force; the old parts' targets close once sends they began are done. */
  swap(next: RelayParts): void {
    const old = this.#current;
    this.#current = next;
    this.#retiring.add(old);
    setTimeout(() => void this.#retire(old), retireAfterMs).unref();
  }

  /** On shutdown: every target, current and retiring, closed now. */
  async close(): Promise<void> {
    await Promise.all([...this.#retiring, this.#current].map((parts) => this.#retire(parts)));
  }

  async #retire(parts: RelayParts): Promise<void> {
    this.#retiring.delete(parts);
    await Promise.all(
      [...parts.targets.values()].map((target) =>
        target.close?.().catch((error: Error) => this.logger.warn({ err: error }, "closing a target failed")),
      ),
    );
  }
}

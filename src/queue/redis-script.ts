import { createHash } from "node:crypto";
import type { RedisClient } from "../redis/connections.js";

/**
 * A Lua script run by its SHA1 (EVALSHA), sent in full only when Redis does not know it yet
 * (after a restart or a failover): the scripts on the delivery path run on every delivery, and
 * sending their text each time would cost more than running them.
 */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

import type { Conversation } from "../../events.js";
import type { RedisClient } from "../../redis/connector.js";
import type { ConversationState } from "../../targets/target.js";
import type { RelayKeys } from "../queues.js";

/**
 * Deletes the slot's hash and tally only while `field` still holds the value the caller saw:
 * two workers that both found a Slack root deleted must not let the slower one throw away the
 * new root the faster one already made.
 */
const forgetIfUnchanged = `
if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call("DEL", KEYS[1], KEYS[2])
end
return 0`;

/**
 * Targets' per-conversation state in Redis (targets/target.ts `ConversationState`): shared by
 * every worker, surviving restarts, and expiring on its own when a conversation goes quiet.
 * The delivery pipeline hands each send the state of its target and its event's conversation.
 */
export class ConversationStates {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  scopedTo(targetId: string, conversation: Conversation): ConversationState {
    const { redis } = this;
    const key = (slot: string) => this.keys.conversation(targetId, slot, conversation.key);
    return {
      conversation,
      async get(slot) {
        const fields = await redis.hgetall(key(slot));
        return Object.keys(fields).length > 0 ? fields : undefined;
      },
      async claim(slot, forMs) {
        return (await redis.set(`${key(slot)}:claim`, String(Date.now()), "PX", forMs, "NX")) === "OK";
      },
      async release(slot) {
        await redis.del(`${key(slot)}:claim`);
      },
      async set(slot, fields, ttlMs) {
        await redis.multi().hset(key(slot), fields).pexpire(key(slot), ttlMs).exec();
      },
      async tally(slot, id, ttlMs) {
        const tally = `${key(slot)}:tally`;
        const results = await redis.multi().sadd(tally, id).pexpire(tally, ttlMs).scard(tally).exec();
        const [error, count] = results?.[2] ?? [new Error("tally: no answer from Redis"), 0];
        if (error) throw error;
        return Number(count);
      },
      async forget(slot, field, value) {
        await redis.eval(forgetIfUnchanged, 2, key(slot), `${key(slot)}:tally`, field, value);
      },
    };
  }
}

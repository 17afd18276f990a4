import { afterAll, beforeAll } from "vitest";
import { type HttpSink, startHttpSink } from "./http-sink.js";
import { type SlackApiServer, startSlackApi } from "./slack-api.js";

/** The far sides a describe's relay delivers to: the Slack stand-in and an HTTP endpoint. */
export interface TargetServers {
  readonly slack: SlackApiServer;
  readonly sink: HttpSink;
}

/**
 * The Slack stand-in (taking `slackToken`, channel #support) and an HTTP sink for the tests of
 * the enclosing describe: started before them, closed after them. Read them inside hooks and
 * tests, as `useRedis()`'s server.
 */
export function useTargetServers(slackToken: string): TargetServers {
  let started: TargetServers | undefined;
  beforeAll(async () => {
    const [slack, sink] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startHttpSink(),
    ]);
    started = { slack, sink };
  });
  afterAll(async () => {
    await Promise.all([started?.slack.close(), started?.sink.close()]);
  });
  const running = () => {
    if (!started) throw new Error("useTargetServers: not started yet; read them inside a hook or a test");
    return started;
  };
  return {
    get slack() {
      return running().slack;
    },
    get sink() {
      return running().sink;
    },
  };
}

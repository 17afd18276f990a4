import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // Every end-to-end file starts its own redis-server, SMTP and HTTP servers on free ports,
    // so files can run in parallel; a generous timeout covers retries with real backoff.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});

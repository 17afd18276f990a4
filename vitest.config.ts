import { defineConfig } from "vitest/config";

/**
 * Suites that start relay processes, kill them, run the CLI as a user would or drive a
 * browser: slower, so `npm test` leaves them to `npm run test:processes` (CI runs both).
 * A suite is its folder: a new slow file goes into test/processes/, no list to keep.
 */
const processSuites = ["test/processes/**/*.test.ts"];

/** Whole Redis topologies (a three-master Cluster, a Sentinel failover, TLS) with several relay processes. */
const scaleSuites = ["test/scale/**/*.test.ts"];

/** Thousands of events through relay processes while a worker, Redis or a target fails: `npm run test:faults`. */
const faultSuites = ["test/faults/**/*.test.ts"];

export default defineConfig({
  test: {
    // Every end-to-end file starts its own redis-server (useRedis), SMTP and HTTP servers on free
    // ports, so files can run in parallel; a generous timeout covers retries with real backoff.
    // Tests wait on conditions (waitFor, waitForQuietQueues in test/support/), not the clock.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: [...processSuites, ...scaleSuites, ...faultSuites],
        },
      },
      // Each of these starts Node processes through tsx, which takes seconds on a busy machine.
      {
        extends: true,
        test: { name: "processes", include: processSuites, testTimeout: 60_000, hookTimeout: 60_000 },
      },
      // Redis Cluster, Sentinel failover and TLS, each from real redis-server processes: `npm run test:scale`.
      {
        extends: true,
        test: {
          name: "scale",
          include: scaleSuites,
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      // One file at a time: each drives relay processes flat out, counts what arrived and asserts
      // the missing and the duplicates it can bound.
      {
        extends: true,
        test: {
          name: "faults",
          include: faultSuites,
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

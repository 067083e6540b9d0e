import { defineConfig } from "vitest/config";

// Two projects: fast unit tests (no root, seconds) and integration tests (real programs, namespaces).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          env: { TZ: "UTC" },
          include: ["src/**/*.test.ts"],
          exclude: ["src/**/*.integration.test.ts"],
          // A guard against a hang, not a measure: a loaded CI machine can stall a unit test for seconds
          // (waitFor allows 10 s by default).
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          env: { TZ: "UTC" },
          include: ["src/**/*.integration.test.ts", "test/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "policy/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    // Each file runs whole programs under Pulumi mocks; the runtime is process-global, so files get
    // their own process and tests inside a file run one after another.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

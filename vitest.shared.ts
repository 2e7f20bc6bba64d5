import { defineConfig } from "vitest/config";

/**
 * One vitest setup for every package: tests live in test/, integration tests start real servers
 * (so the timeouts are generous), and each run leaves a JSON report that the root test command
 * sums into one closing line.
 */
export function packageTestConfig(options: { testTimeoutMs?: number; execArgv?: string[] } = {}) {
  return defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: options.testTimeoutMs ?? 30_000,
      hookTimeout: 60_000,
      reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    },
  });
}

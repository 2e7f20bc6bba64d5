import { fileURLToPath } from "node:url";
import { mergeConfig } from "vitest/config";
import { packageTestConfig } from "../vitest.shared.js";

const shim = (name: string) => fileURLToPath(new URL(`./test/k6-shim/${name}.ts`, import.meta.url));

// The k6 script imports k6's own modules; under vitest they resolve to small shims backed by
// node:crypto (test/k6-shim/). Files run one after another: each starts the whole local system.
export default mergeConfig(packageTestConfig({ testTimeoutMs: 120_000 }), {
  resolve: {
    alias: [
      { find: /^k6\/crypto$/, replacement: shim("crypto") },
      { find: /^k6\/http$/, replacement: shim("http") },
      { find: /^k6\/execution$/, replacement: shim("execution") },
      { find: /^k6\/metrics$/, replacement: shim("metrics") },
      { find: /^k6$/, replacement: shim("k6") },
    ],
  },
  test: { fileParallelism: false },
});

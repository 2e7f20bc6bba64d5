import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "tributary-cli-startup-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A module hook that names every DuckDB module the process resolves, on stderr. */
const HOOK = join(scratch, "report-duckdb.mjs");
writeFileSync(
  HOOK,
  `import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (/duckdb/i.test(resolved.url)) process.stderr.write("DUCKDB " + resolved.url + "\\n");
    return resolved;
  },
});
`,
);

function tributary(...args: string[]) {
  return spawnSync(process.execPath, ["--import", HOOK, MAIN, ...args], { encoding: "utf8", timeout: 30_000 });
}

describe("tributary start-up", () => {
  it("startup - `--help` loads no DuckDB bindings; a DLQ command loads them when it runs (the hook sees them)", () => {
    const help = tributary("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: tributary");
    expect(help.stderr).not.toContain("DUCKDB");

    // The positive control: `dlq list` imports the loader (and the warehouse with it) before it
    // reads the context, which is missing here.
    const dlq = tributary("--context", join(scratch, "missing.json"), "dlq", "list");
    expect(dlq.status).toBe(1);
    expect(dlq.stderr).toContain("no operator context");
    expect(dlq.stderr).toContain("DUCKDB");
  });
});

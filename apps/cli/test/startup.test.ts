import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "tributary-cli-startup-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A module hook that names the DuckDB modules, and those of @tributary/streams, the process resolves (on stderr). */
const HOOK = join(scratch, "report-modules.mjs");
writeFileSync(
  HOOK,
  `import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    if (/duckdb/i.test(resolved.url)) process.stderr.write("DUCKDB " + resolved.url + "\\n");
    if (/[/]packages[/]streams[/]/.test(resolved.url)) process.stderr.write("STREAMS " + resolved.url + "\\n");
    return resolved;
  },
});
`,
);

function tributary(...args: string[]) {
  return spawnSync(process.execPath, ["--import", HOOK, MAIN, ...args], { encoding: "utf8", timeout: 30_000 });
}

describe("tributary start-up", () => {
  it("startup - neither `--help` nor a DLQ command loads DuckDB bindings (the DLQ formats are @tributary/streams'; the hook sees that)", () => {
    const help = tributary("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: tributary");
    expect(help.stderr).not.toContain("DUCKDB");

    // The positive control: the hook reports what `dlq list` resolves, @tributary/streams among it,
    // before the command reads the context, which is missing here.
    const dlq = tributary("--context", join(scratch, "missing.json"), "dlq", "list");
    expect(dlq.status).toBe(1);
    expect(dlq.stderr).toContain("no operator context");
    expect(dlq.stderr).toContain("STREAMS");
    expect(dlq.stderr).not.toContain("DUCKDB");
  });
});

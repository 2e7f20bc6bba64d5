// Sums the JSON reports every package's vitest run left behind into one closing line,
// "tests: N passed, N failed, N skipped", so the whole suite reads at a glance.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceDirs } from "./workspace-dirs.mjs";

let passed = 0,
  failed = 0,
  skipped = 0,
  packages = 0;
for (const dir of workspaceDirs()) {
  const report = join(dir, ".vitest-report.json");
  if (!existsSync(report)) continue;
  const r = JSON.parse(readFileSync(report, "utf8"));
  packages++;
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`tests in ${packages} packages:`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;

// Removes last run's vitest JSON reports, so the summary counts only this run.
import { rmSync, readdirSync } from "node:fs";
import { join } from "node:path";

for (const group of ["apps", "packages"]) {
  for (const name of readdirSync(group)) rmSync(join(group, name, ".vitest-report.json"), { force: true });
}

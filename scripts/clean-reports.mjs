// Removes last run's vitest JSON reports, so the summary counts only this run.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { workspaceDirs } from "./workspace-dirs.mjs";

for (const dir of workspaceDirs()) rmSync(join(dir, ".vitest-report.json"), { force: true });

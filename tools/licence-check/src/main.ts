#!/usr/bin/env node
// Prints each run-time dependency whose licence is not allowed, and exits 1 when there is one.
import { fileURLToPath } from "node:url";
import { licenceViolations } from "./policy.js";
import { runtimeDependencies } from "./pnpm.js";
import { renderViolations } from "./report.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const dependencies = runtimeDependencies(root);
const violations = licenceViolations(dependencies);
if (violations.length > 0) {
  console.error(renderViolations(violations, dependencies.length));
  process.exitCode = 1;
} else {
  console.log(`licence check: all ${dependencies.length} run-time dependencies have an allowed licence`);
}

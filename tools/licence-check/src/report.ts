import type { Violation } from "./policy.js";

const WHY = {
  not_allowed: "is not on the allow-list",
  not_spdx: "is not an SPDX expression",
} as const;

/** The lines a person reads when the check fails: each package, its licence and what to do. */
export function renderViolations(violations: readonly Violation[], checked: number): string {
  const lines = [
    `licence check: ${violations.length} of ${checked} run-time dependencies have a licence that is not allowed:`,
    ...violations.map((v) => `  ${v.name}@${v.version}: "${v.licence}" ${WHY[v.reason]}`),
    "Replace the dependency (or pin a version under an allowed licence); who pulls it in:",
    ...[...new Set(violations.map((v) => v.name))].map((name) => `  bash scripts/pnpm.sh why -r --prod ${name}`),
    "A licence that should be allowed goes into ALLOWED_LICENCES (tools/licence-check/src/policy.ts) with why.",
  ];
  return lines.join("\n");
}

import satisfies from "spdx-satisfies";

/**
 * The licences a run-time dependency may carry. Each lets an Apache-2.0 service be used, changed and
 * shipped without opening anything but the dependency itself:
 * - permissive: MIT, ISC, Apache-2.0, BSD-2-Clause, BSD-3-Clause, 0BSD, BlueOak-1.0.0, Zlib
 *   (pako's deflate code), Python-2.0 (the PSF terms, permissive);
 * - public-domain dedications: CC0-1.0, Unlicense;
 * - MPL-2.0: copyleft per file only. Used unmodified from node_modules it asks nothing of our code,
 *   and it may be combined with Apache-2.0 code in one work; only changes to an MPL file itself
 *   must be published. Vendoring or patching such a package is the moment to think again.
 * Everything else fails, the GPL family (GPL, LGPL, AGPL) and SSPL among it: AGPL's network clause
 * would oblige every deployment to offer its whole source to anyone who sends it a request.
 */
export const ALLOWED_LICENCES: readonly string[] = [
  "MIT",
  "ISC",
  "Apache-2.0",
  "BSD-2-Clause",
  "BSD-3-Clause",
  "0BSD",
  "BlueOak-1.0.0",
  "Zlib",
  "Python-2.0",
  "CC0-1.0",
  "Unlicense",
  "MPL-2.0",
];

/** One installed package version and the licence its package.json declares. */
export interface Dependency {
  name: string;
  version: string;
  licence: string;
}

/**
 * `not_allowed`: a valid SPDX expression that no choice of allowed licences satisfies.
 * `not_spdx`: the declared licence is no SPDX expression (missing, "Unknown", "BSD", "SEE LICENSE IN …"),
 * so nobody can tell what it allows without reading the package: it fails until a person has.
 */
export type ViolationReason = "not_allowed" | "not_spdx";

export interface Violation extends Dependency {
  reason: ViolationReason;
}

/**
 * The dependencies whose licence the allow-list does not satisfy. SPDX expressions are evaluated,
 * not matched as text: `(MIT OR GPL-2.0)` passes (MIT may be chosen), `(MIT AND GPL-3.0)` fails
 * (both apply), `GPL-2.0+` fails.
 */
export function licenceViolations(
  dependencies: readonly Dependency[],
  allowed: readonly string[] = ALLOWED_LICENCES,
): Violation[] {
  const violations: Violation[] = [];
  for (const dependency of dependencies) {
    const reason = judge(dependency.licence, allowed);
    if (reason !== null) violations.push({ ...dependency, reason });
  }
  return violations.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

function judge(licence: string, allowed: readonly string[]): ViolationReason | null {
  try {
    return satisfies(licence, allowed) ? null : "not_allowed";
  } catch {
    // spdx-satisfies throws only when the expression does not parse.
    return "not_spdx";
  }
}

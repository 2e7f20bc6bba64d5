import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { LicenceCheckError } from "./errors.js";
import type { Dependency } from "./policy.js";

/** What `pnpm licenses list --json` prints: licence → the packages that declare it. */
type PnpmLicences = Record<string, Array<{ name: string; versions: string[]; license?: string }>>;

/** One Dependency per installed name@version, from `pnpm licenses list --json` output. */
export function parsePnpmLicences(json: string): Dependency[] {
  const listed = JSON.parse(json) as PnpmLicences;
  const dependencies: Dependency[] = [];
  for (const [key, packages] of Object.entries(listed)) {
    for (const pkg of packages) {
      for (const version of pkg.versions) dependencies.push({ name: pkg.name, version, licence: pkg.license ?? key });
    }
  }
  return dependencies;
}

/**
 * Runs pnpm in the repository (through scripts/pnpm.sh, the pinned pnpm) with the arguments given
 * and returns what it printed. pnpm reads the installed node_modules and the lockfile only: no
 * network, so this works offline on any machine after `pnpm install`.
 */
export function runPnpm(root: string, args: readonly string[]): string {
  try {
    return execFileSync("bash", [join(root, "scripts", "pnpm.sh"), ...args], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (err) {
    throw new LicenceCheckError("licence_list_failed", `pnpm ${args.join(" ")} failed in ${root}`, { cause: err });
  }
}

/**
 * Every package installed as a production dependency of any workspace package, transitively
 * (`pnpm licenses list --prod -r`). Workspace packages themselves are links, not listed.
 */
export function runtimeDependencies(root: string): Dependency[] {
  const dependencies = parsePnpmLicences(runPnpm(root, ["licenses", "list", "--prod", "--json", "-r"]));
  if (dependencies.length === 0)
    throw new LicenceCheckError(
      "licence_list_failed",
      `pnpm listed no run-time dependency in ${root}; install first (bash scripts/pnpm.sh install)`,
    );
  return dependencies;
}

export interface WorkspacePackage {
  name: string;
  path: string;
}

/** The workspace's packages, the root included (`pnpm ls -r --depth -1`). */
export function workspacePackages(root: string): WorkspacePackage[] {
  const listed = JSON.parse(runPnpm(root, ["ls", "-r", "--depth", "-1", "--json"])) as WorkspacePackage[];
  return listed.map(({ name, path }) => ({ name, path }));
}

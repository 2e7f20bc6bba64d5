// The workspace's package folders, from pnpm-workspace.yaml's `packages:` list ("dir/*" or "dir"),
// those with a package.json: the places a test run leaves its vitest report. Read by hand (a
// two-line subset of YAML) so these scripts run before any dependency is installed.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function workspaceDirs(root = ".") {
  const text = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = text.split(/^packages:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  const patterns = [...block.matchAll(/^\s+-\s+["']?([^"'\s]+)["']?\s*$/gm)].map((m) => m[1]);
  const dirs = [];
  for (const pattern of patterns) {
    const candidates = pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2))).map((name) => join(pattern.slice(0, -2), name))
      : [pattern];
    for (const dir of candidates) {
      const full = join(root, dir);
      if (statSync(full, { throwIfNoEntry: false })?.isDirectory() && existsSync(join(full, "package.json")))
        dirs.push(dir);
    }
  }
  return dirs;
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The apps the local system runs: their folder under `apps/` and their package name. */
const APPS = {
  gateway: { dir: "gateway", name: "@tributary/gateway" },
  aggregator: { dir: "aggregator", name: "@tributary/aggregator" },
  delivery: { dir: "delivery", name: "@tributary/delivery-app" },
} as const;

export type LocalApp = keyof typeof APPS;

/**
 * The built entry point (the `./main` export) of one of the workspace's apps. The local system
 * starts apps as processes and imports none of them, so it does not depend on them: it finds them
 * where the workspace keeps them, `apps/<folder>` in the nearest ancestor of this package (as
 * nats-server is found in `.tools/`). The package lists them as devDependencies only so that the
 * workspace builds them first.
 */
export function appEntry(app: LocalApp, from: string = import.meta.dirname): string {
  const { dir, name } = APPS[app];
  for (let at = from; ;) {
    const manifest = join(at, "apps", dir, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; exports?: Record<string, unknown> };
      if (pkg.name === name) {
        const main = pkg.exports?.["./main"];
        if (typeof main !== "string") throw new Error(`${manifest} has no "./main" export to run`);
        const entry = join(at, "apps", dir, main);
        if (!existsSync(entry))
          throw new Error(
            `${name} is not built (no ${entry}): run \`bash scripts/pnpm.sh run build\` at the repo root`,
          );
        return entry;
      }
    }
    const parent = dirname(at);
    if (parent === at)
      throw new Error(
        `${name} not found: the local system runs the apps of this repository (apps/${dir} above ${from})`,
      );
    at = parent;
  }
}

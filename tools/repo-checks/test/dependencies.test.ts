import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..", "..");

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function manifests(folder: string): Array<{ dir: string; manifest: Manifest }> {
  return readdirSync(join(ROOT, folder))
    .map((name) => join(folder, name))
    .filter((dir) => existsSync(join(ROOT, dir, "package.json")))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as Manifest }));
}

const apps = manifests("apps");
const appNames = new Set(apps.map((a) => a.manifest.name));
const everyPackage = [
  ...apps,
  ...manifests("packages"),
  ...manifests("tools"),
  { dir: "loadtest", manifest: JSON.parse(readFileSync(join(ROOT, "loadtest", "package.json"), "utf8")) as Manifest },
];

/** Every `@tributary/…` module a package's sources import (tests and benches excluded). */
function importsOf(dir: string): Set<string> {
  const src = join(ROOT, dir, "src");
  if (!existsSync(src)) return new Set();
  const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: src, encoding: "utf8" }).split("\n").filter(Boolean);
  const found = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(join(src, file), "utf8").matchAll(/(?:from|import\()\s*["'](@tributary\/[a-z0-9-]+)/g))
      found.add(m[1]!);
  }
  return found;
}

/**
 * Apps are leaves: what two processes share lives in packages/. A process may start another app's
 * built entry point, but no package may depend on an app or import one, and the test kit is for
 * tests only (devDependencies), never a run-time dependency.
 */
describe("the layering holds", () => {
  it("dependencies - no package depends on an app at run time, and none imports one", () => {
    const problems: string[] = [];
    for (const { dir, manifest } of everyPackage) {
      for (const dep of Object.keys(manifest.dependencies ?? {})) {
        if (appNames.has(dep) && dep !== manifest.name) problems.push(`${dir}: depends on the app ${dep}`);
      }
      for (const imported of importsOf(dir)) {
        if (appNames.has(imported) && imported !== manifest.name)
          problems.push(`${dir}/src imports the app ${imported}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("dependencies - the test kit is never a run-time dependency", () => {
    const problems = everyPackage
      .filter(
        ({ manifest }) =>
          manifest.name !== "@tributary/testkit" && "@tributary/testkit" in (manifest.dependencies ?? {}),
      )
      .map(({ dir }) => `${dir}: @tributary/testkit in dependencies`);
    expect(problems).toEqual([]);
  });

  it("dependencies - the check sees the apps and the packages", () => {
    expect(appNames.size).toBeGreaterThanOrEqual(5);
    expect(everyPackage.length).toBeGreaterThan(appNames.size + 10);
  });
});

describe("one app shape", () => {
  it("mains - every app's main.ts is a short composition (under 60 lines): the work lives in its service and app modules", () => {
    const long = apps
      .map(({ dir }) => join(dir, "src", "main.ts"))
      .filter((file) => existsSync(join(ROOT, file)))
      .map((file) => ({ file, lines: readFileSync(join(ROOT, file), "utf8").trimEnd().split("\n").length }))
      .filter(({ lines }) => lines >= 60)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});

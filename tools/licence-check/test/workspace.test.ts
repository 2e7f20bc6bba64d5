import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { licenceViolations, renderViolations, runtimeDependencies, workspacePackages } from "../src/index.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

describe("this repository's licences", () => {
  it("licences - every run-time dependency of every workspace package has an allowed licence", () => {
    const dependencies = runtimeDependencies(ROOT);
    // The listing is the real tree: the servers' own dependencies are in it, so the check cannot
    // pass on an empty or partial list.
    const names = new Set(dependencies.map((d) => d.name));
    for (const expected of ["fastify", "@nats-io/jetstream", "@duckdb/node-api", "maxmind"])
      expect(names).toContain(expected);
    const violations = licenceViolations(dependencies);
    expect(violations, renderViolations(violations, dependencies.length)).toEqual([]);
  });

  it("licences - every workspace package, the root included, declares the repository's Apache-2.0", () => {
    const packages = workspacePackages(ROOT);
    expect(packages.length).toBeGreaterThan(20);
    const declared = packages.map(({ name, path }) => {
      const manifest = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { license?: string };
      return `${name}: ${manifest.license ?? "(none)"}`;
    });
    expect(declared.filter((line) => !line.endsWith(": Apache-2.0"))).toEqual([]);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });
});

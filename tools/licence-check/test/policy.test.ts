import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  licenceViolations,
  LicenceCheckError,
  parsePnpmLicences,
  renderViolations,
  runtimeDependencies,
  type Dependency,
} from "../src/index.js";

const dep = (name: string, licence: string, version = "1.0.0"): Dependency => ({ name, version, licence });

describe("licence policy", () => {
  it("licences - an AGPL-3.0 dependency fails, named with its version and licence", () => {
    const violations = licenceViolations([dep("fastify", "MIT"), dep("ua-parser-js", "AGPL-3.0-or-later", "2.0.10")]);
    expect(violations).toEqual([
      { name: "ua-parser-js", version: "2.0.10", licence: "AGPL-3.0-or-later", reason: "not_allowed" },
    ]);
    expect(renderViolations(violations, 2)).toContain(
      'ua-parser-js@2.0.10: "AGPL-3.0-or-later" is not on the allow-list',
    );
  });

  it.each([
    "AGPL-3.0",
    "AGPL-3.0-only",
    "GPL-2.0",
    "GPL-3.0-or-later",
    "GPL-2.0+",
    "LGPL-3.0",
    "LGPL-2.1-only",
    "SSPL-1.0",
  ])("licences - copyleft %s fails", (licence) => {
    expect(licenceViolations([dep("x", licence)]).map((v) => v.reason)).toEqual(["not_allowed"]);
  });

  it.each([
    "MIT",
    "ISC",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "0BSD",
    "BlueOak-1.0.0",
    "CC0-1.0",
    "Unlicense",
    "Python-2.0",
    "MPL-2.0",
    "Zlib",
  ])("licences - %s passes", (licence) => {
    expect(licenceViolations([dep("x", licence)])).toEqual([]);
  });

  it("licences - a dual licence passes when one option is allowed; a conjunction needs every part allowed", () => {
    expect(licenceViolations([dep("a", "(MIT OR GPL-2.0)"), dep("b", "(GPL-3.0 OR Apache-2.0)")])).toEqual([]);
    expect(licenceViolations([dep("c", "(MIT AND Zlib)")])).toEqual([]);
    expect(licenceViolations([dep("d", "(MIT AND GPL-3.0)"), dep("e", "(GPL-2.0 OR AGPL-3.0)")])).toEqual([
      { ...dep("d", "(MIT AND GPL-3.0)"), reason: "not_allowed" },
      { ...dep("e", "(GPL-2.0 OR AGPL-3.0)"), reason: "not_allowed" },
    ]);
  });

  it("licences - a licence that is no SPDX expression fails until someone has read it", () => {
    const violations = licenceViolations([dep("a", "Unknown"), dep("b", "BSD"), dep("c", "SEE LICENSE IN LICENSE.md")]);
    expect(violations.map((v) => [v.name, v.reason])).toEqual([
      ["a", "not_spdx"],
      ["b", "not_spdx"],
      ["c", "not_spdx"],
    ]);
    expect(renderViolations(violations, 3)).toContain('b@1.0.0: "BSD" is not an SPDX expression');
  });

  it("licences - pnpm's listing becomes one dependency per name and version", () => {
    const listed = JSON.stringify({
      MIT: [{ name: "fast-uri", versions: ["3.1.9", "4.2.3"], license: "MIT", paths: [] }],
      "AGPL-3.0-or-later": [{ name: "ua-parser-js", versions: ["2.0.10"], license: "AGPL-3.0-or-later", paths: [] }],
      Unknown: [{ name: "mystery", versions: ["0.1.0"], paths: [] }],
    });
    const dependencies = parsePnpmLicences(listed);
    expect(dependencies).toEqual([
      dep("fast-uri", "MIT", "3.1.9"),
      dep("fast-uri", "MIT", "4.2.3"),
      dep("ua-parser-js", "AGPL-3.0-or-later", "2.0.10"),
      dep("mystery", "Unknown", "0.1.0"),
    ]);
    expect(licenceViolations(dependencies).map((v) => `${v.name}:${v.reason}`)).toEqual([
      "mystery:not_spdx",
      "ua-parser-js:not_allowed",
    ]);
  });

  it("licences - a tree pnpm cannot list is an error with its code, never a pass", () => {
    const dir = mkdtempSync(join(tmpdir(), "licence-check-"));
    try {
      let caught: unknown;
      try {
        runtimeDependencies(dir);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(LicenceCheckError);
      expect((caught as LicenceCheckError).code).toBe("licence_list_failed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

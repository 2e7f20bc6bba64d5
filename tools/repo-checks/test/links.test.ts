import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..", "..");

/**
 * What a clone of this repository cannot follow: the folder beside the repository on the machine it
 * was built on, the documents kept there, the articles the product grew from, and an issue tracker
 * that is not in the repository. Everything a reader needs lives in the repository itself
 * (docs/architecture.md, docs/providers.md, each package's README).
 */
// The names are assembled from parts, so that this file does not itself hold the references it
// looks for (and needs no exception from its own check).
const BESIDE = ["shared"].join("");
const OUTSIDE_DOCS = ["DESIGN", "ENVIRONMENT"];
const OUTSIDE = [
  { what: "a path beside the repository", pattern: new RegExp(`\\.\\./${BESIDE}\\b|/work/${BESIDE}\\b`) },
  {
    what: "an outside design or environment document",
    pattern: new RegExp(`\\b(?:${OUTSIDE_DOCS.join("|")})\\.md\\b`),
  },
  { what: "a seed article", pattern: /\bseeds?['’]?\s*(?:0\d\d|\d)\b|\bthe seeds\b|\bseeds['’]/i },
  { what: "an issue number", pattern: /\bissues? #?\d+\b/i },
];

/** Every tracked text file (the lockfile and recorded load-test data excepted: generated). */
function trackedTextFiles(): string[] {
  return execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && !/(^|\/)pnpm-lock\.yaml$|\.(png|svg|tgz|mmdb|ico|woff2?)$|^loadtest\/results\//.test(f));
}

describe("the repository stands on its own", () => {
  it("links - no file links or cites outside the repository", () => {
    const found: string[] = [];
    for (const file of trackedTextFiles()) {
      // This file holds samples of the seed and issue citations it looks for.
      if (file === "tools/repo-checks/test/links.test.ts") continue;
      const lines = readFileSync(join(ROOT, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        for (const { what, pattern } of OUTSIDE)
          if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(found).toEqual([]);
  });

  it("links - every relative link in the Markdown files points at a file of the repository", () => {
    const broken: string[] = [];
    for (const file of trackedTextFiles().filter((f) => f.endsWith(".md"))) {
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split("#")[0]!;
        if (!target || /^[a-z]+:/i.test(target)) continue; // in-page anchors and URLs
        if (!existsSync(join(ROOT, dirname(file), target))) broken.push(`${file}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("links - the check itself finds each kind of outside reference", () => {
    const samples = [
      `see ../${BESIDE}/notes.md`,
      `as ${OUTSIDE_DOCS[1]}.md measured`,
      "seed 004 §5.1",
      "the seeds' envelope",
      "(issue 12)",
    ];
    for (const sample of samples)
      expect(
        OUTSIDE.some(({ pattern }) => pattern.test(sample)),
        sample,
      ).toBe(true);
    for (const fine of ["a random seed 42 for the workload", "RFC 9110 §10.2.3", "issues found"]) {
      expect(
        OUTSIDE.filter(({ pattern }) => pattern.test(fine)).map((o) => o.what),
        fine,
      ).toEqual([]);
    }
  });
});

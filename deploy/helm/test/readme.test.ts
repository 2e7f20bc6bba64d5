import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHARTS, chartDir, valuesDoc, valuesTable, withValuesTable } from "../src/index.js";

describe.each(CHARTS)("%s README", (chart) => {
  const values = readFileSync(join(chartDir(chart), "values.yaml"), "utf8");
  const readme = readFileSync(join(chartDir(chart), "README.md"), "utf8");

  it("docs - the values table is what values.yaml generates (run `bash scripts/pnpm.sh --filter @tributary/deploy-helm run readme`)", () => {
    expect(readme).toBe(withValuesTable(readme, values));
  });

  it("docs - every value has a meaning (a comment above it in values.yaml) and appears in the README with its default", () => {
    const rows = valuesDoc(values);
    expect(rows.length).toBeGreaterThan(40);
    for (const row of rows) {
      expect(row.description, row.path).not.toBe("");
      expect(readme).toContain(`| \`${row.path}\` |`);
    }
  });
});

describe("values table generator", () => {
  it("docs - nested keys become dotted paths, the first key keeps its comment, example maps stay one value", () => {
    const rows = valuesDoc(
      [
        "# top",
        "a: 1",
        "b:",
        "  # first",
        "  c: x",
        "  # second",
        "  d: [1]",
        "# an example map",
        "e:",
        "  k: { v: 1 }",
        "",
      ].join("\n"),
    );
    expect(rows).toEqual([
      { path: "a", default: 1, description: "top" },
      { path: "b.c", default: "x", description: "first" },
      { path: "b.d", default: [1], description: "second" },
      { path: "e", default: { k: { v: 1 } }, description: "an example map" },
    ]);
    expect(valuesTable(rows)).toContain("| `b.d` | `[1]` | second |");
  });
});

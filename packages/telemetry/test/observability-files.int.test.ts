import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promtool } from "@tributary/testkit";
import { describe, expect, it } from "vitest";
import { METRICS } from "../src/index.js";

const deployDir = fileURLToPath(new URL("../../../deploy/", import.meta.url));
const dashboard = JSON.parse(readFileSync(`${deployDir}grafana/tributary.json`, "utf8")) as {
  panels: Array<{ title: string; description: string; targets: Array<{ expr: string }> }>;
};
const alerts = readFileSync(`${deployDir}prometheus/alerts.yml`, "utf8");

/** Metric names a PromQL text uses (tributary_* only), histogram series folded to their metric. */
function metricNames(promql: string): string[] {
  return [...promql.matchAll(/\btributary_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, ""));
}

describe("dashboard and alert rules", () => {
  const known = new Set<string>(Object.values(METRICS));

  it("dashboard - every panel has a title, a description and queries over metrics the apps export", () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of dashboard.panels) {
      expect(panel.title).not.toBe("");
      expect(panel.description.length).toBeGreaterThan(10);
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const names = metricNames(target.expr);
        expect(names.length, target.expr).toBeGreaterThan(0);
        for (const name of names) expect(known, `${panel.title}: ${name}`).toContain(name);
      }
    }
  });

  it("alerts - the rules use only exported metrics and pass promtool check rules", () => {
    for (const name of metricNames(alerts)) expect(known, name).toContain(name);
    const check = promtool(["check", "rules", "alerts.yml"], `${deployDir}prometheus`);
    expect(check.code, check.output).toBe(0);
  });

  it("alerts - promtool test rules: each alert fires when it should and stays quiet otherwise", () => {
    const test = promtool(["test", "rules", "alerts.test.yml"], `${deployDir}prometheus`);
    expect(test.code, test.output).toBe(0);
    expect(test.output).toMatch(/SUCCESS/);
    // Every alert in the rules has a test case.
    const names = [...alerts.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const cases = readFileSync(`${deployDir}prometheus/alerts.test.yml`, "utf8");
    for (const name of names) expect(cases, name).toContain(`alertname: ${name}`);
  });
});

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { helm } from "./helm.js";

/** deploy/helm, where the charts live. */
export const CHARTS_DIR = fileURLToPath(new URL("../", import.meta.url));
export const CHARTS = ["tributary-gateway", "tributary-hub"] as const;
export type ChartName = (typeof CHARTS)[number];

export function chartDir(chart: ChartName): string {
  return join(CHARTS_DIR, chart);
}

/** A rendered Kubernetes object, as helm wrote it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, in order (after the chart's values.yaml). */
  valuesFiles?: readonly string[];
  /** `--set-json` pairs: path=JSON. */
  setJson?: Readonly<Record<string, unknown>>;
}

function valueArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((f) => ["-f", f]),
    ...Object.entries(options.setJson ?? {}).flatMap(([k, v]) => ["--set-json", `${k}=${JSON.stringify(v)}`]),
  ];
}

/** `helm lint --strict` of a chart with these values; throws HelmError when it fails. */
export async function lintChart(chart: ChartName, options: RenderOptions = {}): Promise<string> {
  return (await helm(["lint", "--strict", chartDir(chart), ...valueArgs(options)])).stdout;
}

/** `helm template` (hooks and test pods included), parsed into objects. */
export async function renderChart(chart: ChartName, options: RenderOptions = {}): Promise<K8sObject[]> {
  const { stdout } = await helm([
    "template",
    options.release ?? "tributary",
    chartDir(chart),
    "--namespace",
    options.namespace ?? "tributary",
    ...valueArgs(options),
  ]);
  return parseAllDocuments(stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0]!;
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/**
 * The NATS chart writes nats.conf as JSON with some bare tokens (`$VAR`, sizes like `20Gi`), as
 * values and as list items (`$ROUTE_URL_0`): quoting those gives JSON, which is how the tests
 * compare the config with packages/streams.
 */
export function parseNatsChartConfig(text: string): Record<string, unknown> {
  const quote = (all: string, head: string, value: string, comma: string) =>
    /^(-?\d+(\.\d+)?|true|false|null)$/.test(value) ? all : `${head}${JSON.stringify(value)}${comma}`;
  const json = text
    .split("\n")
    .filter((line) => !/^\s*include\s/.test(line))
    .map((line) =>
      line.replace(/^(\s*"[^"]+": )([^"[{\s][^,]*?)(,?)$/, quote).replace(/^(\s*)([^"[\]{}\s][^,]*?)(,?)$/, quote),
    )
    .join("\n");
  return JSON.parse(json) as Record<string, unknown>;
}

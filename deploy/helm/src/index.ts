export { DEFAULT_HELM_PATH, ensureHelm, helm, HELM_PACKAGE, HelmError, REPO_ROOT } from "./helm.js";
export type { HelmResult } from "./helm.js";
export { CHARTS, CHARTS_DIR, chartDir, lintChart, parseNatsChartConfig, renderChart } from "./render.js";
export type { ChartName, K8sObject, RenderOptions } from "./render.js";
export { VALUES_END, VALUES_START, valuesDoc, ValuesDocError, valuesTable, withValuesTable } from "./values-doc.js";
export type { ValueDoc } from "./values-doc.js";
export { ENRICH_CHART_KEYS, enrichValuesSchema, withEnrichSchema, withoutDefaults } from "./enrich-schema.js";
export type { JsonSchema } from "./enrich-schema.js";

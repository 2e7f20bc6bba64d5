import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { FaultMark } from "./faults.js";
import { percentileMs, type Timeline } from "./stats.js";

/**
 * The run as an SVG: offered vs achieved events/s on top, ack and e2e p99 per second below (log
 * scale), the fault window shaded in both. Rendered headless by Vega (renderer "none": no canvas
 * or browser needed).
 */
export async function renderPlot(timeline: Timeline, title: string, fault: FaultMark | undefined): Promise<string> {
  const rate: Array<{ t: number; series: string; value: number }> = [];
  const latency: Array<{ t: number; series: string; value: number }> = [];
  timeline.seconds.forEach((s, t) => {
    rate.push(
      { t, series: "offered", value: s.offeredEvents },
      { t, series: "achieved (acknowledged)", value: s.ackedEvents },
    );
    const ack = percentileMs(s.ack, 99);
    const e2e = percentileMs(s.e2e, 99);
    if (ack !== null) latency.push({ t, series: "ack p99", value: Math.max(0.1, ack) });
    if (e2e !== null) latency.push({ t, series: "e2e p99 (received → row)", value: Math.max(0.1, e2e) });
  });
  const faultData = fault
    ? [
        {
          from: (fault.startMs - timeline.startMs) / 1000,
          to: (fault.endMs - timeline.startMs) / 1000,
          label: fault.kind,
        },
      ]
    : [];
  const faultLayer = {
    data: { values: faultData },
    mark: { type: "rect" as const, color: "#d62728", opacity: 0.15 },
    encoding: { x: { field: "from", type: "quantitative" as const }, x2: { field: "to" } },
  };
  const x = { field: "t", type: "quantitative" as const, title: "seconds since start" };
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: fault ? `shaded: ${fault.kind}` : "no fault" },
    config: { font: "sans-serif", legend: { labelLimit: 320 } },
    vconcat: [
      {
        width: 720,
        height: 200,
        layer: [
          ...(fault ? [faultLayer] : []),
          {
            data: { values: rate },
            mark: { type: "line", interpolate: "step-after" },
            encoding: {
              x,
              y: { field: "value", type: "quantitative", title: "events/s" },
              color: { field: "series", type: "nominal", title: null },
            },
          },
        ],
      },
      {
        width: 720,
        height: 200,
        layer: [
          ...(fault ? [faultLayer] : []),
          {
            data: { values: latency },
            mark: { type: "line", point: true },
            encoding: {
              x,
              y: { field: "value", type: "quantitative", title: "ms (log)", scale: { type: "log" } },
              color: { field: "series", type: "nominal", title: null, scale: { range: ["#2ca02c", "#9467bd"] } },
            },
          },
        ],
      },
    ],
    resolve: { scale: { color: "independent" } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

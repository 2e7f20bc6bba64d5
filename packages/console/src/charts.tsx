import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

/**
 * Small charts drawn as plain SVG. Each is a figure with a title, a one-line text summary (what a
 * glance at the chart tells), the picture (role=img, named by the title and the summary) and its
 * data as a table: hidden from sight until "Show the data" opens it, always there for screen readers.
 */

export interface Datum {
  label: string;
  value: number;
  /** A longer name for the table and the tooltip (the label may be shortened in the picture). */
  title?: string;
}

interface FrameProps {
  id: string;
  title: string;
  summary: string;
  data: readonly Datum[];
  /** The table's column heads: what a label is, what a value counts. */
  columns: [string, string];
  children: ComponentChildren;
}

function ChartFrame({ id, title, summary, data, columns, children }: FrameProps) {
  const [open, setOpen] = useState(false);
  return (
    <figure class="chart" aria-labelledby={`${id}-title`} data-testid={`chart-${id}`}>
      <figcaption>
        <h3 id={`${id}-title`}>{title}</h3>
        <p id={`${id}-summary`} data-testid="summary">
          {summary}
        </p>
      </figcaption>
      {children}
      <button
        type="button"
        class="link"
        aria-expanded={open}
        aria-controls={`${id}-table`}
        onClick={() => setOpen(!open)}
      >
        {open ? "Hide the data" : "Show the data"}
      </button>
      <div id={`${id}-table`} class={open ? "table-wrap" : "sr-only"}>
        <table>
          <caption>{title}: the data</caption>
          <thead>
            <tr>
              <th scope="col">{columns[0]}</th>
              <th scope="col">{columns[1]}</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.label}>
                <th scope="row">{d.title ?? d.label}</th>
                <td data-testid="value">{d.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/** The drawing's width in its own units: about the width a chart gets on the page, so text keeps its size. */
const WIDTH = 360;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Horizontal bars, one per category, largest first as given; the value is written after each bar. */
export function BarChart(props: Omit<FrameProps, "children">) {
  const { id, data } = props;
  const row = 26;
  const labelWidth = 130;
  const valueWidth = 44;
  const max = Math.max(1, ...data.map((d) => d.value));
  const height = Math.max(row, data.length * row);
  return (
    <ChartFrame {...props}>
      {data.length === 0 ? (
        <p class="muted">Nothing to show.</p>
      ) : (
        <svg
          viewBox={`0 0 ${WIDTH} ${height}`}
          width="100%"
          role="img"
          aria-labelledby={`${id}-title ${id}-summary`}
          class="bars"
        >
          {data.map((d, i) => {
            const width = ((WIDTH - labelWidth - valueWidth) * d.value) / max;
            const y = i * row;
            return (
              <g key={d.label}>
                <title>{`${d.title ?? d.label}: ${d.value}`}</title>
                <text x={labelWidth - 8} y={y + row / 2} text-anchor="end" dominant-baseline="middle">
                  {shorten(d.label, 15)}
                </text>
                <rect x={labelWidth} y={y + 4} width={Math.max(d.value > 0 ? 2 : 0, width)} height={row - 8} />
                <text x={labelWidth + width + 6} y={y + row / 2} dominant-baseline="middle">
                  {d.value}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </ChartFrame>
  );
}

/** Columns over time (one per bucket, oldest left); the axis names the largest value and the ends. */
export function ColumnChart(props: Omit<FrameProps, "children">) {
  const { id, data } = props;
  const height = 150;
  const left = 32;
  const bottom = 22;
  const plot = height - bottom - 8;
  const max = Math.max(1, ...data.map((d) => d.value));
  const step = (WIDTH - left) / Math.max(1, data.length);
  const ticks = data.length > 0 ? [0, Math.floor((data.length - 1) / 2), data.length - 1] : [];
  return (
    <ChartFrame {...props}>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-labelledby={`${id}-title ${id}-summary`}
        class="columns"
      >
        <line class="axis" x1={left} y1={8} x2={left} y2={8 + plot} />
        <line class="axis" x1={left} y1={8 + plot} x2={WIDTH} y2={8 + plot} />
        <text x={left - 6} y={12} text-anchor="end">
          {max}
        </text>
        <text x={left - 6} y={8 + plot} text-anchor="end">
          0
        </text>
        {data.map((d, i) => {
          const h = (plot * d.value) / max;
          return (
            <rect key={d.label} x={left + i * step + 1} y={8 + plot - h} width={Math.max(1, step - 2)} height={h}>
              <title>{`${d.title ?? d.label}: ${d.value}`}</title>
            </rect>
          );
        })}
        {ticks.map((i, n) => (
          <text
            key={i}
            x={n === 0 ? left : n === ticks.length - 1 ? WIDTH : left + i * step + step / 2}
            y={height - 4}
            text-anchor={n === 0 ? "start" : n === ticks.length - 1 ? "end" : "middle"}
          >
            {data[i]!.label}
          </text>
        ))}
      </svg>
    </ChartFrame>
  );
}

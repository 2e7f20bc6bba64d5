/**
 * The standard OTEL_* variables this package honours, read in one place (the apps pass their
 * environment in; nothing here reads process.env). Blank means unset; a bad value warns and falls
 * back to the default rather than stopping an app over its telemetry.
 * https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
export interface TelemetrySettings {
  /** OTEL_SDK_DISABLED=true: telemetry off entirely (no spans, no metrics, no /metrics endpoint). */
  disabled: boolean;
  serviceName: string | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, `key=value,key=value` (values percent-decoded). */
  resourceAttributes: Record<string, string>;
  /** Where spans go (OTLP/HTTP, JSON encoding); undefined: traces are neither recorded nor sent. */
  tracesEndpoint: string | undefined;
  /** Where metrics are pushed (OTLP/HTTP, JSON); undefined: only the Prometheus endpoint. */
  metricsEndpoint: string | undefined;
  /** OTEL_EXPORTER_OTLP_HEADERS (e.g. an API key for a hosted backend). Never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
  sampler: SamplerSetting;
  /** OTEL_METRIC_EXPORT_INTERVAL, for the OTLP push only (Prometheus pulls). */
  metricExportIntervalMs: number;
  /** OTEL_SPAN_LINK_COUNT_LIMIT: a load span links every event of its batch. */
  linkCountLimit: number;
}

export type SamplerSetting =
  | { kind: "always_on" | "always_off" | "parentbased_always_on" | "parentbased_always_off" }
  | { kind: "traceidratio" | "parentbased_traceidratio"; ratio: number };

export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
export const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;
/** Room for the largest batch the loader makes (its maxEvents ceiling is 50,000). */
export const DEFAULT_LINK_COUNT_LIMIT = 50_000;

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function list(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      out[key] = decodeURIComponent(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

function positiveInt(env: Env, name: string, fallback: number, warn: (msg: string) => void): number {
  const v = value(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return n;
  warn(`${name}=${JSON.stringify(v)} is not a positive integer; using ${fallback}`);
  return fallback;
}

/** A signal's own endpoint is used as given; the shared one gets `/v1/<signal>` appended (the spec's rule). */
function endpointFor(env: Env, signal: "traces" | "metrics"): string | undefined {
  const own = value(env, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`);
  if (own) return own;
  const base = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  return base ? `${base.replace(/\/+$/, "")}/v1/${signal}` : undefined;
}

/** OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: "none" turns OTLP off even with an endpoint. */
function exporterOff(env: Env, name: string, warn: (msg: string) => void): boolean {
  const v = value(env, name);
  if (v === undefined) return false;
  const names = v.split(",").map((s) => s.trim());
  for (const n of names) {
    if (!["otlp", "none", "prometheus", "console"].includes(n))
      warn(`${name}: exporter ${JSON.stringify(n)} is not supported here; use otlp or none`);
  }
  return !names.includes("otlp");
}

function samplerOf(env: Env, warn: (msg: string) => void): SamplerSetting {
  const kind = value(env, "OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
  switch (kind) {
    case "always_on":
    case "always_off":
    case "parentbased_always_on":
    case "parentbased_always_off":
      return { kind };
    case "traceidratio":
    case "parentbased_traceidratio": {
      const arg = value(env, "OTEL_TRACES_SAMPLER_ARG");
      const ratio = arg === undefined ? 1 : Number(arg);
      if (!(ratio >= 0 && ratio <= 1)) {
        warn(`OTEL_TRACES_SAMPLER_ARG=${JSON.stringify(arg)} is not a ratio between 0 and 1; using 1`);
        return { kind, ratio: 1 };
      }
      return { kind, ratio };
    }
    default:
      warn(`OTEL_TRACES_SAMPLER=${JSON.stringify(kind)} is not supported; using parentbased_always_on`);
      return { kind: "parentbased_always_on" };
  }
}

export function readTelemetrySettings(env: Env, warn: (msg: string) => void = () => undefined): TelemetrySettings {
  const disabled = value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true";
  const protocol = value(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
  if (protocol !== undefined && protocol !== "http/json") {
    warn(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: Tributary exports OTLP/HTTP with JSON encoding (http/json), which every collector's OTLP/HTTP receiver (port 4318) accepts`,
    );
  }
  return {
    disabled,
    serviceName: value(env, "OTEL_SERVICE_NAME"),
    resourceAttributes: list(value(env, "OTEL_RESOURCE_ATTRIBUTES")),
    tracesEndpoint: disabled || exporterOff(env, "OTEL_TRACES_EXPORTER", warn) ? undefined : endpointFor(env, "traces"),
    metricsEndpoint:
      disabled || exporterOff(env, "OTEL_METRICS_EXPORTER", warn) ? undefined : endpointFor(env, "metrics"),
    headers: list(value(env, "OTEL_EXPORTER_OTLP_HEADERS")),
    timeoutMs: positiveInt(env, "OTEL_EXPORTER_OTLP_TIMEOUT", DEFAULT_OTLP_TIMEOUT_MS, warn),
    sampler: samplerOf(env, warn),
    metricExportIntervalMs: positiveInt(env, "OTEL_METRIC_EXPORT_INTERVAL", DEFAULT_METRIC_EXPORT_INTERVAL_MS, warn),
    linkCountLimit: positiveInt(env, "OTEL_SPAN_LINK_COUNT_LIMIT", DEFAULT_LINK_COUNT_LIMIT, warn),
  };
}

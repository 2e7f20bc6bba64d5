import { describe, expect, it } from "vitest";
import { readTelemetrySettings } from "../src/index.js";

describe("telemetry settings", () => {
  it("settings - no endpoint: nothing is exported", () => {
    const s = readTelemetrySettings({});
    expect(s.tracesEndpoint).toBeUndefined();
    expect(s.metricsEndpoint).toBeUndefined();
    expect(s.sampler).toEqual({ kind: "parentbased_always_on" });
  });

  it("settings - the shared endpoint gets /v1/<signal>; a signal's own endpoint is used as given", () => {
    const s = readTelemetrySettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://m:9000/custom",
    });
    expect(s.tracesEndpoint).toBe("http://collector:4318/v1/traces");
    expect(s.metricsEndpoint).toBe("http://m:9000/custom");
  });

  it("settings - exporter none and OTEL_SDK_DISABLED turn export off; blank means unset", () => {
    expect(
      readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" })
        .tracesEndpoint,
    ).toBeUndefined();
    expect(
      readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" })
        .metricsEndpoint,
    ).toBeUndefined();
    expect(readTelemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " }).tracesEndpoint).toBeUndefined();
  });

  it("settings - headers and resource attributes are lists of key=value, percent-decoded", () => {
    const s = readTelemetrySettings({
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=a%20b,x=1",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod",
    });
    expect(s.headers).toEqual({ "api-key": "a b", x: "1" });
    expect(s.resourceAttributes).toEqual({ "deployment.environment": "prod" });
  });

  it("settings - bad values warn and fall back", () => {
    const warnings: string[] = [];
    const s = readTelemetrySettings(
      {
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "2",
        OTEL_EXPORTER_OTLP_TIMEOUT: "soon",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      },
      (m) => warnings.push(m),
    );
    expect(s.sampler).toEqual({ kind: "traceidratio", ratio: 1 });
    expect(s.timeoutMs).toBe(10_000);
    expect(warnings.join("\n")).toMatch(/OTEL_TRACES_SAMPLER_ARG/);
    expect(warnings.join("\n")).toMatch(/OTEL_EXPORTER_OTLP_TIMEOUT/);
    expect(warnings.join("\n")).toMatch(/http\/json/);
  });
});

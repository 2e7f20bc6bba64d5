import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  postToGateway,
  sampleEvent,
  signWebhook,
  startOtlpReceiver,
  startPrometheus,
  waitFor,
  type OtlpReceiver,
  type PrometheusServer,
  type ReceivedSpan,
} from "@tributary/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Ledger, Receiver, rowCount, send, startTestTopology } from "./harness.js";

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const dashboardFile = fileURLToPath(new URL("../../../deploy/grafana/tributary.json", import.meta.url));

/** Sums a metric's samples (all label sets) in a Prometheus text exposition. */
function sumOf(exposition: string, metric: string): number {
  let total = 0;
  for (const line of exposition.split("\n")) {
    if (line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

describe("telemetry end to end: traces from request to warehouse row, metrics a real Prometheus scrapes", () => {
  let receiver: OtlpReceiver;
  let topology: Awaited<ReturnType<typeof startTestTopology>>;
  let destination: Receiver;
  const ledger = new Ledger();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // A destination, so the delivery process runs and exports its metrics too.
    destination = await Receiver.start();
    topology = await startTestTopology({
      destinations: [{ name: "sink", url: destination.url, signing: { type: "none" } }],
      appEnv: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_METRICS_EXPORTER: "none",
      },
      aggregatorOverrides: { metricsIntervalMs: 500 },
    });
  }, 90_000);
  afterAll(async () => {
    await topology?.cleanup();
    await destination?.close();
    await receiver?.close();
  });

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

  it("traces - one event is one trace: HTTP span ▸ publish span ▸ consume span, and a load span linked to it", async () => {
    const answer = await send(topology, ledger, "us", sampleEvent({ seed: "traced-1" }), "demo:traced-1");
    expect(answer.status).toBe(202);

    const { producer, consumer, load } = await waitFor(
      "the event's spans from the gateway and the aggregator",
      () => {
        const producer = receiver.spans.find(
          (s) => s.kind === PRODUCER && s.attributes["messaging.message.id"] === "demo:traced-1",
        );
        if (!producer) return undefined;
        const consumer = spansOf(producer.traceId).find((s) => s.kind === CONSUMER);
        const load =
          consumer &&
          receiver.spans.find((s) => s.kind === CLIENT && s.links.some((l) => l.spanId === consumer.spanId));
        return load ? { producer, consumer, load } : undefined;
      },
      30_000,
      100,
    );
    const trace = spansOf(producer.traceId);
    const server = trace.find((s) => s.kind === SERVER) as ReceivedSpan;

    // The HTTP server span, at the root of the trace (no traceparent from the sender).
    expect(server).toBeDefined();
    expect(server.service).toBe("tributary-gateway");
    expect(server.parentSpanId).toBe("");
    expect(server.name).toBe("POST /v1/sources/:sourceId/events");
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/v1/sources/:sourceId/events",
      "http.response.status_code": 202,
    });

    // The publish span: a child of the HTTP span, naming the subject and the event key.
    expect(producer.parentSpanId).toBe(server.spanId);
    expect(producer.service).toBe("tributary-gateway");
    expect(producer.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.operation.type": "send",
      "messaging.destination.name": "events.us.demo.link.clicked",
      "tributary.duplicate": false,
    });

    // The consume span at the hub: the same trace, a child of the publish span (traceparent survived sourcing).
    expect(consumer.service).toBe("tributary-aggregator");
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.operation.type": "process",
      "messaging.consumer.group.name": "warehouse-loader",
      "messaging.message.id": "demo:traced-1",
      "tributary.outcome": "loaded",
    });

    // The load span: its own trace, linked to the event's consume span.
    expect(load.name).toBe("INSERT events");
    expect(load.traceId).not.toBe(producer.traceId);
    expect(load.links).toContainEqual({ traceId: producer.traceId, spanId: consumer.spanId });
    expect(load.attributes).toMatchObject({
      "db.system.name": "duckdb",
      "db.operation.name": "INSERT",
      "db.collection.name": "events",
    });
    expect(Number(load.attributes["db.operation.batch.size"])).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("metrics - the end-to-end latency histogram counts exactly the rows loaded (resends and cross-region copies excluded)", async () => {
    for (let i = 0; i < 10; i++)
      await send(topology, ledger, i % 2 === 0 ? "us" : "eu", sampleEvent({ seed: `m-${i}` }), `demo:m-${i}`);
    // A resend to the same region (the stream's depth) and the same event to the other region (the aggregator's).
    await send(topology, ledger, "us", sampleEvent({ seed: "m-0" }), "demo:m-0");
    await send(topology, ledger, "eu", sampleEvent({ seed: "m-0" }), "demo:m-0");
    const expectedRows = ledger.acknowledged.size;
    await waitFor(
      `${expectedRows} rows`,
      async () => ((await rowCount(topology)) >= expectedRows ? true : undefined),
      30_000,
      100,
    );

    const exposition = await (await fetch(`${topology.aggregatorUrl}/metrics`)).text();
    expect(await rowCount(topology)).toBe(expectedRows);
    expect(sumOf(exposition, "tributary_e2e_latency_seconds_count")).toBe(expectedRows);
    expect(exposition.split("\n").filter((l) => l.startsWith("tributary_loader_events_total"))).toContain(
      `tributary_loader_events_total{outcome="loaded"} ${expectedRows}`,
    );

    // The gateway's metrics are on its operations port, not the ingest port senders reach.
    const us = await (await fetch(`${topology.regions.get("us")!.gatewayOpsUrl}/metrics`)).text();
    expect(us).toMatch(/tributary_gateway_events_total\{region="us",source="demo",outcome="duplicate",code=""\} 1/);
    expect(us).toMatch(/tributary_gateway_publish_duration_seconds_count\{region="us"\} \d+/);
  }, 60_000);

  describe("a real Prometheus scraping the apps", () => {
    let prometheus: PrometheusServer;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "tributary-prometheus-"));
      const hostOf = (url: string) => new URL(url).host;
      prometheus = await startPrometheus({
        dir,
        jobs: {
          gateway: [...topology.regions.values()].map((r) => hostOf(r.gatewayOpsUrl)),
          aggregator: [hostOf(topology.aggregatorUrl)],
          delivery: [hostOf(topology.delivery!.url)],
        },
      });
    }, 60_000);
    afterAll(async () => {
      await prometheus?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("dashboard - every panel's query returns data from the running system", async () => {
      await waitFor(
        "every target scraped",
        async () => {
          const up = await prometheus.query("up == 1");
          return up.length === 4 ? true : undefined;
        },
        30_000,
        250,
      );
      // Traffic while Prometheus scrapes (rates need increases between scrapes): accepted events in
      // both regions, and one refusal.
      const body = sampleEvent({ seed: "bad-signature" });
      const refused = await postToGateway(`${topology.regions.get("us")!.gatewayUrl}/v1/sources/demo/events`, {
        headers: signWebhook({ secret: "not-the-secret", body }),
        body,
      });
      expect(refused.status).toBe(401);
      for (let round = 0; round < 6; round++) {
        for (const region of ["us", "eu"])
          await send(
            topology,
            ledger,
            region,
            sampleEvent({ seed: `p-${round}-${region}` }),
            `demo:p-${round}-${region}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 700));
      }

      const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8")) as {
        panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      };
      const empty: string[] = [];
      await waitFor(
        "every dashboard query to return data",
        async () => {
          empty.length = 0;
          for (const panel of dashboard.panels) {
            for (const target of panel.targets) {
              const expr = target.expr.replaceAll("$__rate_interval", "1m");
              const result = await prometheus.query(expr);
              if (!result.some((r) => r.value[1] !== "NaN")) empty.push(`${panel.title}: ${expr}`);
            }
          }
          return empty.length === 0 ? true : undefined;
        },
        30_000,
        1000,
      ).catch((err: unknown) => {
        throw new Error(`panels without data:\n${empty.join("\n")}\n${String(err)}`);
      });
    }, 90_000);

    it("a source's refusals of the last hour, by region and code, read by the management API from this Prometheus", async () => {
      const api = () =>
        fetch(`${topology.aggregatorUrl}/v1/sources/demo/refusals`, {
          headers: { authorization: `Bearer ${topology.apiToken}` },
        });
      // Without a Prometheus configured the API says where to look instead.
      const before = await api();
      expect(before.status).toBe(404);
      expect(((await before.json()) as { error: { code: string } }).error.code).toBe("refusals_unavailable");

      const body = sampleEvent({ seed: "refused-for-the-api" });
      const refuse = async () =>
        expect(
          (
            await postToGateway(`${topology.regions.get("eu")!.gatewayUrl}/v1/sources/demo/events`, {
              headers: signWebhook({ secret: "not-the-secret", body }),
              body,
            })
          ).status,
        ).toBe(401);
      // A counter's first value is not an increase to Prometheus: one refusal makes the series, and
      // once it is scraped, the next ones count.
      await refuse();
      await waitFor(
        "the eu refusal series scraped",
        async () =>
          (await prometheus.query('tributary_gateway_events_total{region="eu", source="demo", outcome="refused"}'))
            .length > 0
            ? true
            : undefined,
        30_000,
        250,
      );
      await refuse();
      await refuse();
      // The dashboard's own expression of refused events, for this source.
      const query =
        'sum by (region, code) (increase(tributary_gateway_events_total{source="demo", outcome="refused"}[1h]))';
      const expected = () => prometheus.query(query);
      await waitFor(
        "the eu refusals counted",
        async () =>
          (await expected()).some((r) => r.metric.region === "eu" && Number(r.value[1]) >= 1) ? true : undefined,
        30_000,
        500,
      );
      const configFile = join(topology.stateDir, "aggregator.json");
      const config = JSON.parse(readFileSync(configFile, "utf8")) as { control: Record<string, unknown> };
      writeFileSync(
        configFile,
        JSON.stringify({ ...config, control: { ...config.control, prometheusUrl: prometheus.url } }),
      );
      await topology.restartAggregator();

      const answer = (await (await api()).json()) as {
        query: string;
        data: Array<{ region: string; code: string; count: number }>;
      };
      expect(answer.query).toBe(query);
      const eu = answer.data.filter((r) => r.region === "eu");
      expect(eu.length).toBeGreaterThan(0);
      expect(eu.every((r) => r.code !== "" && r.count >= 1)).toBe(true);
      // The same numbers as Prometheus gives for the query, rounded to whole refusals.
      const direct = (await expected())
        .map((r) => ({ region: r.metric.region, code: r.metric.code, count: Math.round(Number(r.value[1])) }))
        .filter((r) => r.count > 0);
      expect(new Set(answer.data.map((r) => `${r.region}/${r.code}`))).toEqual(
        new Set(direct.map((r) => `${r.region}/${r.code}`)),
      );
    }, 90_000);
  });
});

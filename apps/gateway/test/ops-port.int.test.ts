import { describe, expect, it } from "vitest";
import { startTelemetry, type Telemetry } from "@tributary/telemetry";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { resolveGatewayConfig } from "../src/config.js";
import { SECRET, startGateway } from "./helpers.js";

describe("the gateway's operations port", () => {
  it("M5 - /metrics and /v1/stats are not served on the ingest port; the operations port serves them and the probes", async () => {
    const telemetry: Telemetry = startTelemetry({ serviceName: "g", serviceVersion: "0", env: {} });
    const gw = await startGateway({}, undefined, {}, undefined, telemetry);
    try {
      const body = sampleEvent();
      expect(
        (
          await fetch(`${gw.url}/v1/sources/demo/events`, {
            method: "POST",
            headers: signWebhook({ secret: SECRET, body }),
            body,
          })
        ).status,
      ).toBe(202);
      // The ingest port, which the internet reaches: no counters, no source or secret ids, no metrics.
      for (const path of ["/v1/stats", "/metrics"]) {
        const res = await fetch(`${gw.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(await res.text()).not.toMatch(/demo|current|heap|tributary_/);
      }
      // Its probes answer for the load balancer, with no capacity details.
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready" });
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);

      // The operations port, another listener (loopback by default), serves all of it.
      expect(new URL(gw.opsUrl).port).not.toBe(new URL(gw.url).port);
      const stats = (await (await fetch(`${gw.opsUrl}/v1/stats`)).json()) as { accepted: number; secrets: unknown };
      expect(stats.accepted).toBe(1);
      expect(stats.secrets).toHaveProperty("demo");
      const metrics = await (await fetch(`${gw.opsUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /tributary_gateway_events_total\{region="us",source="demo",outcome="accepted",code=""\} 1/,
      );
      const opsReady = (await (await fetch(`${gw.opsUrl}/readyz`)).json()) as { status: string; region: string };
      expect(opsReady).toMatchObject({ status: "ready", region: "us" });
      expect((await fetch(`${gw.opsUrl}/v1/sources/demo/events`, { method: "POST", body })).status).toBe(404);
    } finally {
      await gw.close();
      await telemetry.shutdown();
    }
  });

  it("M5 - the operations port is on loopback by default, 9464, and cannot be the ingest port", () => {
    const base = {
      region: "us",
      sources: { demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k", env: "S" }] } },
    };
    const config = resolveGatewayConfig(base, { S: SECRET });
    expect([config.opsHost, config.opsPort]).toEqual(["127.0.0.1", 9464]);
    expect(() => resolveGatewayConfig({ ...base, port: 9000, opsPort: 9000 }, { S: SECRET })).toThrow(
      expect.objectContaining({ field: "opsPort" }),
    );
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { freePorts, sleep, startNatsServer, startService, waitFor } from "@tributary/testkit";
import { describe, expect, it } from "vitest";

const AGGREGATOR_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

describe("aggregator start-up", () => {
  it("start-up - a stream not provisioned yet: not ready and waiting, then loading once it exists", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tributary-startup-"));
    const nats = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
    const [port] = await freePorts(1);
    writeFileSync(
      join(dir, "aggregator.json"),
      JSON.stringify({
        port,
        logLevel: "warn",
        warehouseUrl: `duckdb://${join(dir, "events.duckdb")}`,
        nats: { servers: [nats.url] },
        stream: "LATE",
      }),
    );
    // Ready only once loading: startService without readyUrl, readiness polled here.
    const aggregator = await startService({
      name: "aggregator",
      entry: AGGREGATOR_MAIN,
      env: { TRIBUTARY_CONFIG: join(dir, "aggregator.json") },
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        "the aggregator's HTTP server",
        async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined),
        15_000,
      );
      await sleep(2_500);
      expect(aggregator.process.exitCode).toBeNull();
      expect((await fetch(`${url}/readyz`)).status).toBe(503);

      const nc = await connect({ servers: [nats.url] });
      await (await jetstreamManager(nc)).streams.add({ name: "LATE", subjects: ["late.>"] });
      await nc.close();
      await waitFor(
        "ready once the stream exists",
        async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined),
        15_000,
        200,
      );
    } finally {
      await aggregator.stop();
      await nats.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * `pnpm bench` (apps/cli): how long `tributary reconcile` takes for a region with many rows.
 *
 * Sets up, once: a real nats-server holding a regional stream of N events (BENCH_ROWS, default
 * 1,000,000; small bodies, published pipelined) and the hub's stream and loader consumer; a DuckDB
 * file with a row for each (region, region_seq) except GAPS gaps (some of whose keys were loaded
 * under another copy, some lost) and a few doubles; the aggregator's HTTP server (in this process)
 * over that file. Then times reconcile() end to end, and the warehouse's range query alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { buildHttp } from "@tributary/aggregator";
import {
  ensureConsumer,
  ensureStream,
  hubStreamConfig,
  loaderConsumerConfig,
  regionalStreamConfig,
} from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";
import { DuckDbSink } from "@tributary/warehouse";
import { reconcile } from "../dist/ops/reconcile.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const GAPS = 20;
const dir = mkdtempSync(join(tmpdir(), "reconcile-bench-"));
const nats = await startNatsServer({ domain: "us", dir: join(dir, "nats") });

try {
  const nc = await connect({ servers: [nats.url] });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, regionalStreamConfig({ region: "us", maxBytes: 4 * 1024 ** 3 }));
  // The hub side on the same server: the reconcile only asks it whether work is in flight.
  await ensureStream(jsm, { ...hubStreamConfig({ regions: [] }), sources: [] });
  await ensureConsumer(
    jsm,
    "EVENTS",
    loaderConsumerConfig({ durable: "warehouse-loader", maxAckPending: 1000, ackWaitMs: 30_000 }),
  );

  const js = jetstream(nc);
  const publishStarted = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  const body = new TextEncoder().encode('{"event":"link.clicked","data":{}}');
  for (let seq = 1; seq <= ROWS; seq++) {
    const h = natsHeaders();
    h.set("Nats-Msg-Id", `demo:${seq}`);
    const p = js.publish("events.us.demo.link.clicked", body, { headers: h });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 512) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  console.log(
    `stream: ${ROWS.toLocaleString("en")} events published in ${((Date.now() - publishStarted) / 1000).toFixed(1)} s`,
  );

  // Rows for every sequence, less GAPS gaps of 1–50 sequences; half of the gaps' keys present as
  // another copy (another region's row), and 5 doubles.
  const file = join(dir, "w.duckdb");
  const setup = await (await DuckDBInstance.create(file)).connect();
  await setup.run(`CREATE TABLE events AS SELECT 'demo:' || i AS event_key, 'demo' AS source, i::VARCHAR AS event_id, 'link.clicked' AS event_type, NULL::VARCHAR AS schema_version,
    NULL::TIMESTAMPTZ AS occurred_at, now() AS received_at, now() AS loaded_at, 'us' AS region, i::BIGINT AS region_seq, '{}'::JSON AS payload FROM range(1, ${ROWS + 1}) t(i)`);
  let removed = 0;
  let lost = 0;
  for (let g = 0; g < GAPS; g++) {
    const start = Math.floor(((g + 1) * ROWS) / (GAPS + 1));
    const length = 1 + (g % 50);
    await setup.run(`DELETE FROM events WHERE region_seq BETWEEN ${start} AND ${start + length - 1}`);
    removed += length;
    if (g % 2 === 0)
      await setup.run(
        `INSERT INTO events SELECT 'demo:' || i, 'demo', i::VARCHAR, 'link.clicked', NULL, NULL, now(), now(), 'eu', i, '{}' FROM range(${start}, ${start + length}) t(i)`,
      );
    else lost += length;
  }
  await setup.run(
    `INSERT INTO events SELECT 'demo:double-' || i, 'demo', 'double-' || i, 'link.clicked', NULL, NULL, now(), now(), 'us', i, '{}' FROM range(100, 105) t(i)`,
  );
  setup.closeSync();
  const sink = await DuckDbSink.open(file);
  await sink.migrate();

  const http = buildHttp({ reader: sink, loader: () => undefined, reconcile: sink });
  const address = await http.listen({ host: "127.0.0.1", port: 0 });
  const context = {
    hub: { url: nats.url },
    regions: { us: { url: nats.url } },
    admin: { user: "", password: "" },
    aggregatorUrl: address,
    durable: "warehouse-loader",
  };

  const rangesStarted = performance.now();
  const ranges = await sink.seqRanges("us");
  const rangesMs = performance.now() - rangesStarted;

  const started = performance.now();
  const result = await reconcile(context);
  const ms = performance.now() - started;
  const us = result.regions[0]!;
  console.log(
    `\nmachine: ${cpus().length} × ${cpus()[0]?.model}, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}`,
  );
  console.log(
    `rows: ${ROWS.toLocaleString("en")} (us), ${GAPS} gaps (${removed} sequences: ${removed - lost} loaded as another copy, ${lost} lost), 5 doubles`,
  );
  console.log(`warehouse ranges query: ${ranges.length} runs in ${rangesMs.toFixed(0)} ms`);
  console.log(
    `reconcile end to end: ${ms.toFixed(0)} ms — gaps ${us.gapSeqs}, as another copy ${us.loadedAsAnotherCopy}, lost ${us.lost.length}, doubled ${us.doubles.length}`,
  );
  if (us.lost.length !== lost || us.doubles.length !== 5 || us.loadedAsAnotherCopy !== removed - lost) {
    console.error("FAILED: the reconcile did not find exactly the gaps and doubles made");
    process.exitCode = 1;
  }
  await http.close();
  await sink.close();
  await nc.close();
} finally {
  await nats.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

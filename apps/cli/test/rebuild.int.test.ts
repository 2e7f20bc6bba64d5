import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHttp } from "@tributary/aggregator";
import { DuckDbSink } from "@tributary/warehouse";
import type { OperatorContext } from "../src/ops/context.js";
import { rebuildRollups, rebuildText } from "../src/ops/rollups.js";

type WarehouseRow = Parameters<DuckDbSink["insertBatch"]>[0][number];
const EMPTY = Object.fromEntries(
  "link_id campaign campaign_meta geo_country geo_region device_type os_name browser_name is_bot bot_kind referrer_category ip_anon is_unique is_suspicious suspicious_reason channel platform revenue currency unique_rule"
    .split(" ")
    .map((k) => [k, null]),
) as unknown as NonNullable<WarehouseRow["enriched"]>;

function row(n: number): WarehouseRow {
  return {
    event_key: `demo:e${n}`,
    source: "demo",
    event_id: `e${n}`,
    event_type: "link.clicked",
    schema_version: null,
    occurred_at: new Date(Date.UTC(2026, 10, 28 + (n % 2), 12, n % 30)),
    received_at: new Date(),
    region: "us",
    region_seq: n,
    payload: "{}",
    enriched: { ...EMPTY, link_id: `l${n % 7}`, is_unique: n % 3 === 0, unique_rule: "per_link_24h" },
  };
}

describe("tributary rebuild rollups - through the aggregator's operator route", () => {
  let dir: string;
  let sink: DuckDbSink;
  let app: ReturnType<typeof buildHttp>;
  let context: OperatorContext;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-rebuild-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    await sink.insertBatch(Array.from({ length: 500 }, (_, i) => row(i)));
    app = buildHttp({ reader: sink, loader: () => undefined, rollups: sink, operatorToken: "operator-secret" });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    context = {
      hub: { url: "nats://127.0.0.1:1" },
      regions: {},
      admin: { user: "a", password: "b" },
      aggregatorUrl: url,
      aggregatorToken: "operator-secret",
      durable: "d",
    };
  });
  afterAll(async () => {
    await app?.close();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rebuilds all of it or from a minute on, while loads go on; the operator token is required", async () => {
    const loading = (async () => {
      for (let i = 500; i < 1500; i += 100) await sink.insertBatch(Array.from({ length: 100 }, (_, k) => row(i + k)));
    })();
    const all = await rebuildRollups(context);
    const partial = await rebuildRollups(context, { since: new Date("2026-11-29T12:10:30Z") });
    await loading;
    expect(all.since).toBeNull();
    expect(all.tables.map((t) => t.table)).toEqual(["events_rollup_minute", "events_rollup_link_day"]);
    expect(all.tables.every((t) => t.rows > 0)).toBe(true);
    expect(partial.since).toBe("2026-11-29T12:10:00.000Z");
    expect(rebuildText(partial)).toContain("events_rollup_link_day");
    const total = (q: "day" | "link") =>
      sink.analytics({ groupBy: q }).then((r) => r.reduce((s, x) => s + x.events, 0));
    expect(await total("day")).toBe(1500);
    expect(await total("link")).toBe(1500);
    await expect(rebuildRollups({ ...context, aggregatorToken: "wrong" })).rejects.toThrow();
    const bad = await app.inject({
      method: "POST",
      url: "/v1/rollups/rebuild",
      headers: { authorization: "Bearer operator-secret" },
      payload: { since: "yesterday" },
    });
    expect(bad.statusCode).toBe(400);
  });
});

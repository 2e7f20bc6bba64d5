import { describe, expect, it } from "vitest";
import type { WarehouseRow } from "@tributary/schema";
import { classifyFailure, exceptionCode } from "../src/clickhouse-http.js";
import {
  clickHouseFeatures,
  clickHouseTableDdl,
  dedupToken,
  detectLayout,
  encodeRow,
  layoutColumns,
  preferredLayout,
  sqlString,
} from "../src/clickhouse-schema.js";
import { ClickHouseSink, openWarehouse, parseClickHouseUrl, WarehouseError } from "../src/index.js";

const row: WarehouseRow = {
  event_key: "demo:a",
  source: "demo",
  event_id: "a",
  event_type: "link.clicked",
  schema_version: null,
  occurred_at: new Date("2026-03-04T14:32:08.441Z"),
  received_at: new Date("2026-03-04T14:32:09.007Z"),
  region: "us",
  region_seq: 7,
  payload: '{"a":1}',
};
const loadedAt = Date.parse("2026-03-04T14:32:10.120Z");

describe("clickhouse versions", () => {
  it("18.16 gets the epoch-ms layout and no token; 20.5+ DateTime64; 22.2+ the token; TTL from 19.6", () => {
    const f = (dateTime64: boolean, dedupToken: boolean, ttl: boolean, removeTtl: boolean) => ({
      dateTime64,
      dedupToken,
      ttl,
      removeTtl,
    });
    expect(clickHouseFeatures("18.16.1")).toEqual(f(false, false, false, false));
    expect(clickHouseFeatures("19.5.4.22")).toEqual(f(false, false, false, false));
    expect(clickHouseFeatures("19.6.2.11")).toEqual(f(false, false, true, false));
    expect(clickHouseFeatures("20.4.9.110")).toEqual(f(false, false, true, false));
    expect(clickHouseFeatures("20.5.2.7")).toEqual(f(true, false, true, false));
    expect(clickHouseFeatures("20.12.3.3")).toEqual(f(true, false, true, true));
    expect(clickHouseFeatures("22.1.4.30")).toEqual(f(true, false, true, true));
    expect(clickHouseFeatures("22.2.2.1")).toEqual(f(true, true, true, true));
    expect(clickHouseFeatures("24.8.4.13")).toEqual(f(true, true, true, true));
    expect(clickHouseFeatures("25.3.2.39-lts")).toEqual(f(true, true, true, true));
    expect(preferredLayout(clickHouseFeatures("18.16.1"))).toBe("epoch-ms");
    expect(preferredLayout(clickHouseFeatures("24.8.4.13"))).toBe("datetime64");
    expect(() => clickHouseFeatures("nonsense")).toThrow(TypeError);
  });

  it("the new-server table: DateTime64(3), no partitioning, the dedup window for the token", () => {
    const ddl = clickHouseTableDdl("`db`.`events`", "datetime64", { dedupWindow: 1000 });
    expect(ddl).toContain("received_at    DateTime64(3, 'UTC')");
    expect(ddl).toContain(
      "ENGINE = ReplacingMergeTree\nORDER BY event_key\nSETTINGS non_replicated_deduplication_window = 1000",
    );
    expect(ddl).not.toContain("PARTITION BY");
    expect(clickHouseTableDdl("`db`.`events`", "datetime64")).not.toContain("SETTINGS");
    expect(clickHouseTableDdl("`db`.`events`", "epoch-ms")).not.toContain("DateTime64");
  });

  it("an existing table's layout comes from its columns", () => {
    const cols = (layout: "datetime64" | "epoch-ms") =>
      layoutColumns(layout).map((name) => ({
        name,
        type: name.endsWith("_at") ? (layout === "datetime64" ? "DateTime64(3, 'UTC')" : "DateTime('UTC')") : "String",
      }));
    expect(detectLayout(cols("epoch-ms"))).toBe("epoch-ms");
    expect(detectLayout(cols("datetime64"))).toBe("datetime64");
    expect(detectLayout([{ name: "event_key", type: "String" }])).toBeNull();
  });
});

describe("clickhouse encoding", () => {
  it("epoch-ms rows carry seconds and exact milliseconds; out-of-range seconds are clamped", () => {
    const line = JSON.parse(encodeRow(row, "epoch-ms", loadedAt)) as Record<string, unknown>;
    expect(line).toEqual({
      event_key: "demo:a",
      source: "demo",
      event_id: "a",
      event_type: "link.clicked",
      schema_version: null,
      occurred_at: 1772634728,
      occurred_at_ms: 1772634728441,
      received_at: 1772634729,
      received_at_ms: 1772634729007,
      loaded_at: 1772634730,
      loaded_at_ms: loadedAt,
      region: "us",
      region_seq: 7,
      payload: '{"a":1}',
    });
    expect(Object.keys(line)).toEqual(layoutColumns("epoch-ms"));
    const old = JSON.parse(
      encodeRow({ ...row, occurred_at: new Date("1950-01-01T00:00:00Z") }, "epoch-ms", loadedAt),
    ) as Record<string, unknown>;
    expect(old.occurred_at).toBe(0);
    expect(old.occurred_at_ms).toBe(Date.parse("1950-01-01T00:00:00Z"));
  });

  it("datetime64 rows carry UTC text with milliseconds", () => {
    const line = JSON.parse(encodeRow({ ...row, occurred_at: null }, "datetime64", loadedAt)) as Record<
      string,
      unknown
    >;
    expect(line).toMatchObject({
      occurred_at: null,
      received_at: "2026-03-04 14:32:09.007",
      loaded_at: "2026-03-04 14:32:10.120",
    });
    expect(Object.keys(line)).toEqual(layoutColumns("datetime64"));
    const far = JSON.parse(
      encodeRow({ ...row, occurred_at: new Date("3000-01-01T00:00:00Z") }, "datetime64", loadedAt),
    ) as Record<string, unknown>;
    expect(far.occurred_at).toBe("2299-12-31 23:59:59.999");
  });

  it("a row with an invalid date is warehouse_rejected, not a crash", () => {
    expect(() => encodeRow({ ...row, occurred_at: new Date(NaN) }, "datetime64", loadedAt)).toThrow(
      expect.objectContaining({ code: "warehouse_rejected" }) as Error,
    );
    expect(() => encodeRow({ ...row, region_seq: -1 }, "epoch-ms", loadedAt)).toThrow(WarehouseError);
  });

  it("string literals escape quotes, backslashes and control characters", () => {
    expect(sqlString(`it's a \\ test\n\u0000`)).toBe(`'it\\'s a \\\\ test\\x0a\\x00'`);
    expect(sqlString("plain €")).toBe("'plain €'");
  });

  it("the dedup token depends on the set of keys only", () => {
    expect(dedupToken(["b", "a"])).toBe(dedupToken(["a", "b"]));
    expect(dedupToken(["a", "b"])).not.toBe(dedupToken(["a", "c"]));
    expect(dedupToken(["ab", "c"])).not.toBe(dedupToken(["a", "bc"]));
  });
});

describe("clickhouse errors", () => {
  // Bodies as 18.16 sends them.
  const parse =
    "Code: 41, e.displayText() = DB::Exception: Cannot parse datetime: (while read the value of key received_at): (at row 1)";
  const incorrect =
    "Code: 117, e.displayText() = DB::Exception: Unknown field found while parsing JSONEachRow format: nope: (at row 1)";
  const noTable = "Code: 60, e.displayText() = DB::Exception: Table t1.nope doesn't exist., e.what() = DB::Exception";
  const password =
    "Code: 193, e.displayText() = DB::Exception: Wrong password for user tributary, e.what() = DB::Exception";

  it("only data errors of an insert are warehouse_rejected", () => {
    expect(classifyFailure("insert", 400, exceptionCode(parse))).toBe("warehouse_rejected");
    expect(classifyFailure("insert", 500, exceptionCode(incorrect))).toBe("warehouse_rejected");
    expect(classifyFailure("insert", 404, exceptionCode(noTable))).toBe("warehouse_unavailable");
    expect(classifyFailure("insert", 401, exceptionCode(password))).toBe("warehouse_unavailable");
    expect(classifyFailure("insert", 413, exceptionCode("<html>Request Entity Too Large</html>"))).toBe(
      "warehouse_rejected",
    );
    expect(classifyFailure("insert", 503, null)).toBe("warehouse_unavailable");
    expect(classifyFailure("read", 400, exceptionCode(parse))).toBe("warehouse_unavailable");
    expect(exceptionCode("", "252")).toBe(252);
  });
});

describe("clickhouse URLs", () => {
  it("reads host, port, database, credentials and options", () => {
    expect(parseClickHouseUrl("clickhouse://ch.internal:8123/analytics")).toEqual({
      host: "ch.internal",
      port: 8123,
      secure: false,
      database: "analytics",
    });
    expect(
      parseClickHouseUrl(
        "clickhouse://loader:p%40ss%3Aword@10.0.0.5/db?compression=none&timeout_ms=5000&connections=8&mutation_timeout_ms=60000",
      ),
    ).toEqual({
      host: "10.0.0.5",
      port: 8123,
      secure: false,
      database: "db",
      user: "loader",
      password: "p@ss:word",
      compression: "none",
      timeoutMs: 5000,
      connections: 8,
      mutationTimeoutMs: 60000,
    });
    expect(parseClickHouseUrl("clickhouses://ch.example")).toEqual({ host: "ch.example", port: 8443, secure: true });
  });

  it("refuses what it cannot use, with warehouse_url_invalid", () => {
    for (const url of [
      "clickhouse://",
      "clickhouse://h/bad-name",
      "clickhouse://h/db?compression=lz4",
      "clickhouse://h/db?x=1",
      "clickhouse://h/db?timeout_ms=0",
      "clickhouse://h/db?mutation_timeout_ms=-5",
    ]) {
      expect(() => parseClickHouseUrl(url), url).toThrow(WarehouseError);
    }
  });

  it("openWarehouse picks the sink by scheme and never echoes a password", async () => {
    const sink = await openWarehouse("clickhouse://127.0.0.1:1/db");
    expect(sink).toBeInstanceOf(ClickHouseSink);
    expect(sink.kind).toBe("clickhouse");
    await sink.close();
    await expect(openWarehouse("postgres://u:hunter2@x/db")).rejects.toThrow(/clickhouse:\/\/.*/);
    await expect(openWarehouse("postgres://u:hunter2@x/db")).rejects.not.toThrow(/hunter2/);
  });
});

import { describe, expect, it } from "vitest";
import {
  DELIVERIES_TIME,
  erasedAtType,
  eventsTime,
  tableTtl,
  ttlExpression,
  ttlStatement,
} from "../src/clickhouse-lifecycle.js";
import { clickHouseFeatures } from "../src/clickhouse-schema.js";
import { WarehouseError } from "../src/index.js";

const DAY = 86_400;
const current = clickHouseFeatures("24.8.4.13");
const before2012 = clickHouseFeatures("20.4.9.110");

describe("clickhouse retention TTLs", () => {
  it("expire events by received_at (a DateTime on either layout) and the delivery log by its attempt", () => {
    expect(ttlExpression(eventsTime("datetime64"), 30 * DAY)).toBe("toDateTime(received_at) + INTERVAL 2592000 SECOND");
    expect(ttlExpression(eventsTime("epoch-ms"), 30 * DAY)).toBe("received_at + INTERVAL 2592000 SECOND");
    expect(ttlExpression(DELIVERIES_TIME, 7 * DAY)).toBe(
      "toDateTime(intDiv(attempted_at_ms, 1000)) + INTERVAL 604800 SECOND",
    );
    expect(() => ttlExpression(DELIVERIES_TIME, 0)).toThrow(RangeError);
    expect(() => ttlExpression(DELIVERIES_TIME, 1.5)).toThrow(RangeError);
  });

  it("a table without the policy's TTL gets MODIFY TTL; one with it, nothing (no rewrite at every start)", () => {
    const time = eventsTime("datetime64");
    expect(ttlStatement("`db`.`events`", time, 30 * DAY, undefined, current)).toBe(
      "ALTER TABLE `db`.`events` MODIFY TTL toDateTime(received_at) + INTERVAL 2592000 SECOND",
    );
    // As the server prints it back, in either spelling.
    expect(
      ttlStatement("t", time, 30 * DAY, "toDateTime(received_at) + toIntervalSecond(2592000)", current),
    ).toBeNull();
    expect(ttlStatement("t", time, 30 * DAY, "toDateTime(received_at) + INTERVAL 2592000 SECOND", current)).toBeNull();
    // Another retention, or a TTL on another column (set by hand), is replaced.
    expect(ttlStatement("t", time, 7 * DAY, "toDateTime(received_at) + toIntervalSecond(2592000)", current)).toMatch(
      /MODIFY TTL toDateTime\(received_at\) \+ INTERVAL 604800 SECOND$/,
    );
    expect(ttlStatement("t", time, 30 * DAY, "toDateTime(loaded_at) + toIntervalSecond(2592000)", current)).toMatch(
      /MODIFY TTL/,
    );
  });

  it("a policy that keeps a table forever removes its TTL (20.12+), and is an error where it cannot", () => {
    const time = DELIVERIES_TIME;
    expect(ttlStatement("t", time, undefined, undefined, before2012)).toBeNull();
    expect(
      ttlStatement("t", time, undefined, "toDateTime(intDiv(attempted_at_ms, 1000)) + toIntervalSecond(1)", current),
    ).toBe("ALTER TABLE t REMOVE TTL");
    expect(() => ttlStatement("t", time, undefined, "x + toIntervalSecond(1)", before2012)).toThrow(WarehouseError);
  });

  it("reads the table TTL out of system.tables.engine_full", () => {
    expect(
      tableTtl(
        "ReplacingMergeTree ORDER BY event_key TTL toDateTime(received_at) + toIntervalSecond(2592000) SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192",
      ),
    ).toBe("toDateTime(received_at) + toIntervalSecond(2592000)");
    expect(
      tableTtl(
        "ReplacingMergeTree ORDER BY (destination, log_seq) TTL toDateTime(intDiv(attempted_at_ms, 1000)) + toIntervalSecond(60)",
      ),
    ).toBe("toDateTime(intDiv(attempted_at_ms, 1000)) + toIntervalSecond(60)");
    // What 18.16 shows: no TTL.
    expect(tableTtl("ReplacingMergeTree ORDER BY event_key SETTINGS index_granularity = 8192")).toBeUndefined();
  });

  it("erased_at is typed like the layout's instants", () => {
    expect(erasedAtType("datetime64")).toBe("Nullable(DateTime64(3, 'UTC'))");
    expect(erasedAtType("epoch-ms")).toBe("Nullable(DateTime('UTC'))");
  });
});

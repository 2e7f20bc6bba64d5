import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createEventValidator,
  parseEventBody,
  toWarehouseRow,
  WAREHOUSE_COLUMNS,
  type NormalizedEvent,
  type WarehouseColumnName,
  type WarehouseRow,
} from "../src/index.js";

const text =
  '{"event_id":"evt_1","event_type":"link.clicked","occurred_at":"2026-03-04T14:32:08.441Z","schema_version":2,"data":{"link_id":"lnk_1"}}';

function normalized(json: string): NormalizedEvent {
  const parsed = parseEventBody(Buffer.from(json));
  if (!parsed.ok) throw new Error(parsed.message);
  const result = createEventValidator().validate(parsed.value, { strict: false });
  if (!result.ok) throw new Error(result.message);
  return result.event;
}

const meta = {
  eventKey: "shop:evt_1",
  eventId: "evt_1",
  source: "shop",
  region: "eu",
  regionSeq: 17,
  receivedAt: new Date("2026-03-04T14:32:09.000Z"),
  payloadJson: text,
};

describe("toWarehouseRow", () => {
  it("row - maps the event and its delivery facts", () => {
    expect(toWarehouseRow(normalized(text), meta)).toEqual({
      event_key: "shop:evt_1",
      source: "shop",
      event_id: "evt_1",
      event_type: "link.clicked",
      schema_version: "2",
      occurred_at: new Date("2026-03-04T14:32:08.441Z"),
      received_at: new Date("2026-03-04T14:32:09.000Z"),
      region: "eu",
      region_seq: 17,
      payload: text,
    } satisfies WarehouseRow);
  });

  it("row - the payload is the text as received, never re-serialised", () => {
    const spaced = '{ "event" : "x.y",   "n": 1.50 }';
    expect(toWarehouseRow(normalized(spaced), { ...meta, payloadJson: spaced }).payload).toBe(spaced);
  });

  it("row - a missing timestamp and version are null; event_id comes from the key", () => {
    const row = toWarehouseRow(normalized('{"event":"x.y"}'), { ...meta, eventId: "sha256:ab12" });
    expect(row).toMatchObject({ occurred_at: null, schema_version: null, event_id: "sha256:ab12" });
  });

  it("row - received_at is a copy of the caller's Date", () => {
    const receivedAt = new Date("2026-03-04T14:32:09.000Z");
    const row = toWarehouseRow(normalized(text), { ...meta, receivedAt });
    receivedAt.setTime(0);
    expect(row.received_at.toISOString()).toBe("2026-03-04T14:32:09.000Z");
  });

  it.each([
    ["an empty key", { eventKey: "" }],
    ["an invalid receivedAt", { receivedAt: new Date(Number.NaN) }],
    ["a negative regionSeq", { regionSeq: -1 }],
    ["a fractional regionSeq", { regionSeq: 1.5 }],
  ])("row - %s is a programming error and throws", (_, bad) => {
    expect(() => toWarehouseRow(normalized(text), { ...meta, ...bad })).toThrow(TypeError);
  });
});

describe("WAREHOUSE_COLUMNS", () => {
  it("columns - the design's order, loaded_at set by the warehouse, event_key unique", () => {
    expect(WAREHOUSE_COLUMNS.map((c) => c.name)).toEqual([
      "event_key",
      "source",
      "event_id",
      "event_type",
      "schema_version",
      "occurred_at",
      "received_at",
      "loaded_at",
      "region",
      "region_seq",
      "payload",
    ]);
    expect(WAREHOUSE_COLUMNS.filter((c) => c.unique).map((c) => c.name)).toEqual(["event_key"]);
    expect(WAREHOUSE_COLUMNS.filter((c) => c.setBy === "warehouse").map((c) => c.name)).toEqual(["loaded_at"]);
  });

  it("columns - every row field is a column set by the row, nullable exactly where the row allows null", () => {
    // `enriched` is the group of ENRICHED_COLUMNS, set by the enrichment stage, not by the mapping.
    expectTypeOf<Exclude<keyof WarehouseRow, "enriched">>().toEqualTypeOf<Exclude<WarehouseColumnName, "loaded_at">>();
    const row = toWarehouseRow(normalized('{"event":"x.y"}'), meta);
    for (const column of WAREHOUSE_COLUMNS.filter((c) => c.setBy === "row")) {
      expect(Object.hasOwn(row, column.name)).toBe(true);
    }
    const nullable = WAREHOUSE_COLUMNS.filter((c) => c.nullable).map((c) => c.name);
    expect(nullable).toEqual(["schema_version", "occurred_at"]);
    expect(
      Object.entries(row)
        .filter(([, v]) => v === null)
        .map(([k]) => k),
    ).toEqual(nullable);
  });
});

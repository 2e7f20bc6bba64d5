import { describe, expect, it } from "vitest";
import { eraseRequest } from "../src/ops/erase.js";
import { eraseText } from "../src/render/management.js";
import { statusText } from "../src/render/operating.js";
import type { StatusReport } from "../src/ops/status.js";

const status = (lifecycle: NonNullable<StatusReport["warehouse"]["lifecycle"]>): StatusReport => ({
  at: "2026-12-07T12:00:00.000Z",
  regions: [],
  hub: { reachable: true, sources: [] } as unknown as StatusReport["hub"],
  warehouse: { reachable: true, rows: 5, newestReceivedAt: null, newestLoadedAt: null, lagSeconds: null, lifecycle },
});

describe("lifecycle in the CLI's text", () => {
  it("status shows each table's rows, oldest row, retention in the config's units and the last pass", () => {
    const text = statusText(
      status({
        tables: [
          {
            table: "events",
            rows: 5,
            oldest: "2026-09-08T00:00:00.000Z",
            retentionSeconds: 90 * 86_400,
            enforcedBy: "delete",
          },
          { table: "events_rollup_minute", rows: 9, oldest: null, retentionSeconds: null, enforcedBy: null },
          { table: "deliveries", rows: 0, oldest: null, retentionSeconds: 36 * 3600, enforcedBy: "ttl" },
        ],
        lastSweep: { at: "2026-12-07T11:00:00.000Z", removed: { events: 3, deliveries: 1, rollups: 0 } },
      }),
    );
    expect(text).toMatch(/events\s+│?\s*5\s.*2026-09-08T00:00:00.000Z.*90d.*delete/);
    expect(text).toMatch(/events_rollup_minute.*forever/);
    expect(text).toMatch(/deliveries.*36h.*ttl/);
    expect(text).toContain("deleted 3 events, 1 delivery log rows, 0 rollup rows");
    expect(statusText(status({ tables: [], lastSweep: { at: "t", error: "disk full" } }))).toContain(
      "the last pass (t) failed: disk full",
    );
  });

  it("erase takes exactly one selector, and says what it did where", () => {
    expect(() => eraseRequest({})).toThrow(/exactly one of --key/);
    expect(() => eraseRequest({ key: ["a:1"], source: "a" })).toThrow(/exactly one/);
    expect(() => eraseRequest({ source: "a", visitorUa: "x" })).toThrow(/go with --visitor-ip/);
    expect(eraseRequest({ visitorIp: "203.0.113.7", from: new Date("2026-01-01T00:00:00Z") })).toEqual({
      visitor: { ip: "203.0.113.7", from: "2026-01-01T00:00:00.000Z" },
    });
    const report = {
      id: "er_1",
      at: "2026-12-07T12:00:00.000Z",
      selector: "visitor" as const,
      rows: 4,
      deliveries: 8,
      streams: { EVENTS: 4, EVENTS_ENRICHED: 4 },
      regional: { copies: [{ region: "us", copies: [{ seq: 7, event_key: "a:1" }] }], sources: [] },
    };
    expect(eraseText({ ...report, regionalDeleted: { us: 1 } })).toContain("regions: us 1");
    expect(eraseText({ ...report, regionalDeleted: null })).toContain("not reached (no operator context): 1 copies");
  });
});

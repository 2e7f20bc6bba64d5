import { describe, expect, it } from "vitest";
import { rowFromMessage, type StreamMessage } from "../src/index.js";

function message(headers: Record<string, string>, body: string, seq = 5): StreamMessage {
  return { headers: { get: (name: string) => headers[name] ?? "" }, data: new TextEncoder().encode(body), seq };
}

const goodHeaders = {
  "Nats-Msg-Id": "demo:evt_1",
  "Tributary-Source": "demo",
  "Tributary-Region": "eu",
  "Tributary-Received-At": "2026-11-23T10:00:00.000Z",
  "Tributary-Event-Type": "link.clicked",
};

describe("rows", () => {
  it("rows - maps headers and body to a warehouse row, keeping the raw JSON", () => {
    const body = '{"event":"link.clicked","timestamp":"2026-11-23T09:59:59.000Z","data":{"link_id":"l1"},"extra":true}';
    const outcome = rowFromMessage(message(goodHeaders, body, 42));
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.row).toMatchObject({
      event_key: "demo:evt_1",
      event_id: "evt_1",
      source: "demo",
      region: "eu",
      region_seq: 42,
      event_type: "link.clicked",
      payload: body,
    });
    expect(outcome.row.received_at.toISOString()).toBe("2026-11-23T10:00:00.000Z");
    expect(outcome.row.occurred_at?.toISOString()).toBe("2026-11-23T09:59:59.000Z");
  });

  it("rows - a message without the gateway's headers is poison, not a crash", () => {
    const outcome = rowFromMessage(message({}, '{"event":"x"}'));
    expect(outcome).toMatchObject({ ok: false });
    expect((outcome as { reason: string }).reason).toMatch(/^missing_headers/);
  });

  it("rows - an unparseable body is poison with the reason invalid_json", () => {
    const outcome = rowFromMessage(message(goodHeaders, "{nope"));
    expect((outcome as { reason: string }).reason).toMatch(/^invalid_json/);
  });

  it("rows - a body that breaks its schema is poison with the reason schema_violation", () => {
    const outcome = rowFromMessage(message(goodHeaders, '{"event":"link.clicked","data":{"link_id":5}}'));
    expect((outcome as { reason: string }).reason).toMatch(/^schema_violation/);
  });

  it("rows - a sourced message keeps its origin region's sequence (regionSeqOf of @tributary/streams)", () => {
    const headers = { ...goodHeaders, "Nats-Stream-Source": "EVENTS_US:f3a1 17 > >" };
    const outcome = rowFromMessage(message(headers, '{"event":"link.clicked","data":{"link_id":"l1"}}', 900));
    expect(outcome).toMatchObject({ ok: true, row: { region_seq: 17 } });
  });
});

describe("rows from header-typed providers", () => {
  it("rows - a body without a type (GitHub) takes the type the gateway recorded in Tributary-Event-Type", () => {
    const headers = { ...goodHeaders, "Tributary-Event-Type": "push" };
    const outcome = rowFromMessage(message(headers, '{"ref":"refs/heads/main"}'));
    expect(outcome).toMatchObject({ ok: true, row: { event_type: "push" } });
  });
});

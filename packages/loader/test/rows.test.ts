import { describe, expect, it } from "vitest";
import { rowFromMessage, type StreamMessage } from "../src/index.js";

function message(
  headers: Record<string, string>,
  body: string,
  seq = 5,
  subject = "events.eu.demo.link.clicked",
): StreamMessage {
  return {
    subject,
    headers: { get: (name: string) => headers[name] ?? "" },
    data: new TextEncoder().encode(body),
    seq,
  };
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
    const headers = { ...goodHeaders, "Nats-Stream-Source": "EVENTS_EU:f3a1 17 > > events.eu.demo.link.clicked" };
    const outcome = rowFromMessage(message(headers, '{"event":"link.clicked","data":{"link_id":"l1"}}', 900));
    expect(outcome).toMatchObject({ ok: true, row: { region_seq: 17 } });
  });
});

describe("rows from header-typed providers", () => {
  it("rows - a body without a type (GitHub) takes the type the gateway recorded in Tributary-Event-Type", () => {
    const headers = { ...goodHeaders, "Tributary-Event-Type": "push" };
    const outcome = rowFromMessage(message(headers, '{"ref":"refs/heads/main"}', 5, "events.eu.demo.push"));
    expect(outcome).toMatchObject({ ok: true, row: { event_type: "push" } });
  });
});

describe("rows - the headers must agree with the subject", () => {
  const body = '{"event":"link.clicked","data":{"link_id":"l1"}}';
  const reasonOf = (outcome: ReturnType<typeof rowFromMessage>) => (outcome.ok ? "" : outcome.reason);

  it("M9 - an event published in region us but stamped Tributary-Region eu is poison (header_mismatch), not an eu row", () => {
    const outcome = rowFromMessage(message(goodHeaders, body, 5, "events.us.demo.link.clicked"));
    expect(outcome.ok).toBe(false);
    expect(reasonOf(outcome)).toMatch(/^header_mismatch: Tributary-Region "eu" on events\.us\.demo\.link\.clicked/);
  });

  it("M9 - a key or a source of another source than the subject's is poison: a region cannot pre-empt another source's keys", () => {
    const forgedKey = { ...goodHeaders, "Nats-Msg-Id": "stripe:evt_1" };
    expect(reasonOf(rowFromMessage(message(forgedKey, body)))).toMatch(/^header_mismatch: the key "stripe:evt_1"/);
    const forgedSource = { ...goodHeaders, "Nats-Msg-Id": "stripe:evt_1", "Tributary-Source": "stripe" };
    expect(reasonOf(rowFromMessage(message(forgedSource, body)))).toMatch(
      /^header_mismatch: Tributary-Source "stripe"/,
    );
    const replayed = rowFromMessage(message(forgedSource, body, 5, "replay.demo"));
    expect(reasonOf(replayed)).toMatch(/^header_mismatch: Tributary-Source "stripe" on replay\.demo/);
  });

  it("M9 - a type, an origin stream or a subject that disagrees is poison too; a replay of its own source loads", () => {
    const otherType = { ...goodHeaders, "Tributary-Event-Type": "install.tracked" };
    expect(reasonOf(rowFromMessage(message(otherType, body)))).toMatch(/^header_mismatch: Tributary-Event-Type/);
    const otherStream = { ...goodHeaders, "Nats-Stream-Source": "EVENTS_US 17 > > events.eu.demo.link.clicked" };
    expect(reasonOf(rowFromMessage(message(otherStream, body)))).toMatch(/^header_mismatch: sourced from "EVENTS_US"/);
    expect(reasonOf(rowFromMessage(message(goodHeaders, body, 5, "deliveries.crm")))).toMatch(
      /^header_mismatch: "deliveries\.crm" is not an event subject/,
    );
    expect(rowFromMessage(message(goodHeaders, body, 5, "replay.demo"))).toMatchObject({
      ok: true,
      row: { region: "eu", source: "demo" },
    });
  });
});

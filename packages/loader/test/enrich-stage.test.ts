import { describe, expect, it } from "vitest";
import { createEnricher, openGeoDatabase } from "@tributary/enrich";
import { rowFromMessage, type StreamMessage } from "../src/index.js";

function message(body: string, source = "demo"): StreamMessage {
  const headers: Record<string, string> = {
    "Nats-Msg-Id": `${source}:evt_1`,
    "Tributary-Source": source,
    "Tributary-Region": "us",
    "Tributary-Received-At": "2026-11-23T10:00:00.000Z",
    "Tributary-Event-Type": "link.clicked",
  };
  return {
    subject: `events.us.${source}.link.clicked`,
    headers: { get: (name: string) => headers[name] ?? "" },
    data: new TextEncoder().encode(body),
    seq: 5,
  };
}

const body = JSON.stringify({
  event: "link.clicked",
  timestamp: "2026-11-23T09:59:59.000Z",
  data: {
    link_id: "l1",
    ip: "8.8.8.8",
    user_agent:
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    campaign: "spring",
  },
});

describe("rows - enrich stage", () => {
  const enricher = createEnricher({
    geo: openGeoDatabase(),
    ip: { mode: "truncate" },
    sources: { private: { redact: [{ path: "data.ip", action: "drop" }] }, crm: { payload: "raw" } },
  });

  it("rows - the enriched columns are set from the body; the payload keeps only the truncated IP and the UA's families", () => {
    const outcome = rowFromMessage(message(body), enricher);
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(JSON.parse(outcome.row.payload).data).toEqual({
      link_id: "l1",
      ip: "8.8.8.0",
      user_agent: "Mobile Safari; iOS; mobile",
      campaign: "spring",
    });
    expect(outcome.row.enriched).toMatchObject({
      link_id: "l1",
      campaign: "spring",
      geo_country: "US",
      device_type: "mobile",
      ip_anon: "8.8.8.0",
      is_unique: true,
    });
  });

  it("rows - a source that opts in to the raw payload keeps it byte for byte", () => {
    const outcome = rowFromMessage(message(body, "crm"), enricher);
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(outcome.row.payload).toBe(body);
    expect(outcome.row.enriched?.ip_anon).toBe("8.8.8.0");
  });

  it("rows - a source's redaction rules change the payload before load", () => {
    const outcome = rowFromMessage(message(body, "private"), enricher);
    if (!outcome.ok) throw new Error(outcome.reason);
    expect(outcome.row.payload).not.toContain("8.8.8.8");
    expect(outcome.row.enriched?.geo_country).toBe("US");
  });

  it("rows - an enricher that throws makes the event poison (enrich_failed), never a crash", () => {
    const outcome = rowFromMessage(message(body), {
      enrich: () => {
        throw new Error("boom");
      },
    });
    expect(outcome).toEqual({ ok: false, reason: "enrich_failed: boom" });
  });
});

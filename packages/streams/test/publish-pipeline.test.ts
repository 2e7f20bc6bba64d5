import { describe, expect, it } from "vitest";
import { MsgHdrsImpl } from "@nats-io/nats-core";
import { EventHeaderEncoder, parsePubAck } from "../src/publish-pipeline.js";

const base = {
  subject: "events.us.demo.link.clicked",
  body: Buffer.from("{}"),
  eventKey: "demo:sha256:abc",
  source: "demo",
  region: "us",
  eventType: "link.clicked",
  receivedAt: new Date("2026-03-04T14:32:08.441Z"),
};

describe("jetstream pipeline", () => {
  it("headers - the prebuilt block decodes to the contract's headers", () => {
    const encoder = new EventHeaderEncoder();
    const bytes = encoder.encode({
      ...base,
      secretId: "s2",
      extraHeaders: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    });
    const decoded = MsgHdrsImpl.decode(bytes);
    expect(decoded.get("Nats-Msg-Id")).toBe("demo:sha256:abc");
    expect(decoded.get("Tributary-Source")).toBe("demo");
    expect(decoded.get("Tributary-Region")).toBe("us");
    expect(decoded.get("Tributary-Received-At")).toBe("2026-03-04T14:32:08.441Z");
    expect(decoded.get("Tributary-Event-Type")).toBe("link.clicked");
    expect(decoded.get("Tributary-Secret-Id")).toBe("s2");
    expect(decoded.get("traceparent")).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    // The same block as the NATS client would build.
    const reference = new MsgHdrsImpl();
    reference.set("Tributary-Source", "demo");
    reference.set("Tributary-Region", "us");
    reference.set("Nats-Msg-Id", "demo:sha256:abc");
    reference.set("Tributary-Received-At", "2026-03-04T14:32:08.441Z");
    reference.set("Tributary-Event-Type", "link.clicked");
    expect(Buffer.from(encoder.encode(base)).toString("latin1")).toBe(reference.toString());
  });

  it("headers - CR or LF in any value is refused, never written", () => {
    const encoder = new EventHeaderEncoder();
    expect(() => encoder.encode({ ...base, eventKey: "demo:x\r\nNats-Msg-Id: y" })).toThrow(TypeError);
    expect(() => encoder.encode({ ...base, extraHeaders: { traceparent: "a\nb" } })).toThrow(TypeError);
    expect(() => encoder.encode({ ...base, secretId: "s1\r\nNats-Msg-Id: y" })).toThrow(TypeError);
  });

  it("pubacks - plain acks by the fast path, errors and unknown shapes by JSON.parse", () => {
    expect(parsePubAck('{"stream":"EVENTS_US","domain":"us","seq":42}')).toEqual({
      stream: "EVENTS_US",
      seq: 42,
      duplicate: false,
    });
    expect(parsePubAck('{"stream":"EVENTS_US","domain":"us","seq":42,"duplicate":true}')).toEqual({
      stream: "EVENTS_US",
      seq: 42,
      duplicate: true,
    });
    expect(parsePubAck('{"stream":"EVENTS_US","seq":7}')).toEqual({ stream: "EVENTS_US", seq: 7, duplicate: false });
    expect(
      parsePubAck(
        '{"error":{"code":503,"err_code":10077,"description":"maximum bytes exceeded"},"stream":"EVENTS_US","seq":0}',
      ),
    ).toMatchObject({
      error: { err_code: 10077 },
    });
    expect(parsePubAck('{"stream":"EVENTS_US","seq":9,"val":"x"}')).toMatchObject({ stream: "EVENTS_US", seq: 9 });
    expect(() => parsePubAck("not json")).toThrow();
  });
});

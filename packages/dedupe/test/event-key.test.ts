import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/errors";
import { deriveEventKey, normaliseEventId } from "../src/index.js";

// Expected hashes are computed here with node:crypto, not with the code under test.
const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;
const BODY = Buffer.from('{"event":"link.clicked","timestamp":"2026-05-18T14:32:00.000Z","data":{}}');

describe("deriveEventKey", () => {
  it("precedence - the delivery id wins over the body field and the body hash", () => {
    expect(
      deriveEventKey({ source: "promo", signedDeliveryId: "msg_2Lh9", bodyEventId: "evt_1", rawBody: BODY }),
    ).toEqual({
      eventKey: "promo:msg_2Lh9",
      eventId: "msg_2Lh9",
      idSource: "delivery-id",
    });
  });

  it("precedence - the body field is used when there is no delivery id", () => {
    expect(deriveEventKey({ source: "promo", signedDeliveryId: null, bodyEventId: "evt_1", rawBody: BODY })).toEqual({
      eventKey: "promo:evt_1",
      eventId: "evt_1",
      idSource: "body-field",
    });
  });

  it("precedence - the body hash is used when neither id is present", () => {
    const hash = sha256(BODY);
    expect(deriveEventKey({ source: "promo", rawBody: BODY })).toEqual({
      eventKey: `promo:${hash}`,
      eventId: hash,
      idSource: "body-hash",
    });
  });

  it("precedence - empty strings count as absent", () => {
    expect(deriveEventKey({ source: "promo", signedDeliveryId: "", bodyEventId: "", rawBody: BODY }).idSource).toBe(
      "body-hash",
    );
  });

  it("body hash - a retry with the same bytes gets the same key; one changed byte gets another", () => {
    const a = deriveEventKey({ source: "promo", rawBody: BODY });
    const b = deriveEventKey({ source: "promo", rawBody: Buffer.from(BODY) });
    const changed = Buffer.from(BODY);
    changed[3] = (changed[3] ?? 0) ^ 1;
    expect(b.eventKey).toBe(a.eventKey);
    expect(deriveEventKey({ source: "promo", rawBody: changed }).eventKey).not.toBe(a.eventKey);
  });

  it("body hash - an empty body hashes like any other", () => {
    expect(deriveEventKey({ source: "s", rawBody: Buffer.alloc(0) }).eventId).toBe(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("sources - the same id in two sources gives two keys", () => {
    const a = deriveEventKey({ source: "promo", signedDeliveryId: "x", rawBody: BODY });
    const b = deriveEventKey({ source: "billing", signedDeliveryId: "x", rawBody: BODY });
    expect(a.eventKey).not.toBe(b.eventKey);
  });

  it("ids - 256 visible ASCII characters are kept, 257 are hashed", () => {
    const id256 = "a".repeat(256);
    const id257 = "a".repeat(257);
    expect(deriveEventKey({ source: "s", signedDeliveryId: id256, rawBody: BODY }).eventId).toBe(id256);
    const long = deriveEventKey({ source: "s", signedDeliveryId: id257, rawBody: BODY });
    expect(long).toEqual({ eventKey: `s:${sha256(id257)}`, eventId: sha256(id257), idSource: "delivery-id" });
  });

  it("ids - non-printable, non-ASCII and whitespace ids are hashed (header and key safety)", () => {
    for (const id of ["evt\r\nX-Evil: 1", "évènement", "id with space", " lead", "tab\t", "\u0000", "🙂"]) {
      const key = deriveEventKey({ source: "s", bodyEventId: id, rawBody: BODY });
      expect(key.eventId, JSON.stringify(id)).toBe(sha256(Buffer.from(id, "utf8")));
      expect(key.idSource).toBe("body-field");
      expect(key.eventKey).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  it('ids - punctuation including ":" is kept verbatim (the source never contains ":")', () => {
    const id = "evt:2026-05-18/abc_DEF.123~!";
    expect(deriveEventKey({ source: "s", signedDeliveryId: id, rawBody: BODY }).eventKey).toBe(`s:${id}`);
  });

  it("ids - normaliseEventId is stable", () => {
    expect(normaliseEventId("x".repeat(300))).toBe(normaliseEventId("x".repeat(300)));
    expect(normaliseEventId("ok")).toBe("ok");
  });

  it("config - an invalid source id throws ConfigError naming source", () => {
    for (const source of ["", "a:b", "has space", "x".repeat(129), "ünï"]) {
      expect(() => deriveEventKey({ source, rawBody: BODY }), source).toThrow(ConfigError);
    }
    try {
      deriveEventKey({ source: "a:b", rawBody: BODY });
    } catch (err) {
      expect((err as ConfigError).field).toBe("source");
    }
  });
});

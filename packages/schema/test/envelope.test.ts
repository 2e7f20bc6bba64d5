import { describe, expect, it } from "vitest";
import { createEventValidator, type ValidationResult } from "../src/index.js";

const validator = createEventValidator();
const lenient = (body: unknown): ValidationResult => validator.validate(body, { strict: false });
const strict = (body: unknown): ValidationResult => validator.validate(body, { strict: true });

function accepted(result: ValidationResult) {
  if (!result.ok) throw new Error(`expected acceptance, got: ${result.message}`);
  return result.event;
}
function refused(result: ValidationResult) {
  if (result.ok) throw new Error("expected a schema_violation");
  expect(result.code).toBe("schema_violation");
  expect(result.errors.length).toBeGreaterThan(0);
  return result;
}

// The deep-link webhooks' payload structure.
const seedClick = {
  event: "link.clicked",
  timestamp: "2026-03-04T14:32:08.441Z",
  data: { link_id: "lnk_8xKp2mVq", url: "https://app.example.com/product/42", platform: "ios" },
};

describe("envelope forms", () => {
  it("envelope - the deep-link {event, timestamp, data} form", () => {
    expect(accepted(lenient(seedClick))).toEqual({
      eventType: "link.clicked",
      eventId: null,
      occurredAt: "2026-03-04T14:32:08.441Z",
      schemaVersion: null,
      known: true,
      body: seedClick,
    });
  });

  it("envelope - the rich {event_id, event_type, occurred_at, schema_version, data} form", () => {
    const body = {
      schema_version: "2026-01",
      event_id: "evt_01J9",
      event_type: "click.created",
      occurred_at: "2026-03-04T16:32:08.441+02:00",
      data: { link_id: "lnk_1", device_type: "mobile" },
    };
    expect(accepted(lenient(body))).toEqual({
      eventType: "click.created",
      eventId: "evt_01J9",
      occurredAt: "2026-03-04T14:32:08.441Z",
      schemaVersion: "2026-01",
      known: true,
      body,
    });
  });

  it("envelope - the {id, event, timestamp} mix", () => {
    const event = accepted(lenient({ id: "d-1", event: "x.y", timestamp: "2026-03-04T14:32:08Z" }));
    expect(event).toMatchObject({ eventType: "x.y", eventId: "d-1", occurredAt: "2026-03-04T14:32:08.000Z" });
  });

  it("envelope - event_type, event_id and occurred_at win over event, id and timestamp", () => {
    const event = accepted(
      lenient({
        event_type: "install.tracked",
        event: "link.clicked",
        event_id: "a",
        id: "b",
        occurred_at: "2026-01-01T00:00:00Z",
        timestamp: "2025-01-01T00:00:00Z",
        data: {},
      }),
    );
    expect(event).toMatchObject({ eventType: "install.tracked", eventId: "a", occurredAt: "2026-01-01T00:00:00.000Z" });
  });

  it("envelope - the losing name is not validated (a provider may use it for something else)", () => {
    const body = { event_type: "x.y", event: { kind: "nested" }, id: ["not", "an", "id"], event_id: 7 };
    expect(accepted(lenient(body))).toMatchObject({ eventType: "x.y", eventId: "7" });
  });

  it("envelope - null counts as absent, so the other name is used", () => {
    const event = accepted(lenient({ event_type: null, event: "x.y", event_id: null, id: "i", occurred_at: null }));
    expect(event).toMatchObject({ eventType: "x.y", eventId: "i", occurredAt: null, schemaVersion: null });
  });

  it("envelope - unknown top-level fields are kept in the body", () => {
    const body = { ...seedClick, delivery_attempt: 3, tenant: { id: "t1" } };
    const event = accepted(lenient(body));
    expect(event.body).toBe(body);
    expect(event.body["delivery_attempt"]).toBe(3);
  });

  it("envelope - numeric id and schema_version become strings", () => {
    const event = accepted(lenient({ event: "x.y", id: 12345, schema_version: 2 }));
    expect(event).toMatchObject({ eventId: "12345", schemaVersion: "2" });
  });
});

describe("envelope timestamps", () => {
  it("timestamp - epoch seconds (below 1e11) become ISO", () => {
    expect(accepted(lenient({ event: "x.y", timestamp: 1772634728 })).occurredAt).toBe("2026-03-04T14:32:08.000Z");
  });

  it("timestamp - fractional epoch seconds keep milliseconds", () => {
    expect(accepted(lenient({ event: "x.y", timestamp: 1772634728.441 })).occurredAt).toBe("2026-03-04T14:32:08.441Z");
  });

  it("timestamp - epoch milliseconds (from 1e11) become ISO", () => {
    expect(accepted(lenient({ event: "x.y", timestamp: 1772634728441 })).occurredAt).toBe("2026-03-04T14:32:08.441Z");
  });

  it("timestamp - offsets are normalised to UTC, including a bare hour offset", () => {
    expect(accepted(lenient({ event: "x.y", occurred_at: "2026-03-04T16:32:08+02" })).occurredAt).toBe(
      "2026-03-04T14:32:08.000Z",
    );
  });

  it.each([
    ["a word", "yesterday"],
    ["a date without time", "2026-03-04"],
    ["a date-time without a zone", "2026-03-04T14:32:08"],
    ["an impossible date", "2026-02-30T10:00:00Z"],
    ["a boolean", true],
    ["an object", { at: 1 }],
    ["a negative number", -5],
    ["an empty string", ""],
  ])("timestamp - %s is a schema_violation naming the field", (_, timestamp) => {
    const result = refused(lenient({ event: "x.y", timestamp }));
    expect(result.errors[0]?.path).toBe("timestamp");
    expect(result.message).toMatch(/^timestamp must be an ISO-8601 date-time with a time zone/);
  });

  it("timestamp - a leap second passes the format but is not representable", () => {
    const result = refused(lenient({ event: "x.y", occurred_at: "2026-12-31T23:59:60Z" }));
    expect(result.errors).toEqual([
      { path: "occurred_at", message: expect.stringMatching(/not a representable instant/) },
    ]);
  });
});

describe("envelope ids and versions", () => {
  it.each([
    ["a float", 1.5],
    ["an unsafe integer", 2 ** 53],
    ["an empty string", ""],
    ["a string over 256 characters", "x".repeat(257)],
    ["a boolean", false],
    ["an object", { v: 1 }],
  ])("id - %s is a schema_violation", (_, id) => {
    const result = refused(lenient({ event: "x.y", id }));
    expect(result.errors[0]?.path).toBe("id");
    expect(result.message).toMatch(/^id must be a non-empty string of at most 256 characters, or an integer/);
  });

  it("id - the error names event_id when that name was sent", () => {
    expect(refused(lenient({ event_type: "x.y", event_id: true })).errors[0]?.path).toBe("event_id");
  });

  it("id - a 256-character string is accepted", () => {
    expect(accepted(lenient({ event: "x.y", id: "x".repeat(256) })).eventId).toHaveLength(256);
  });

  it("schema_version - a boolean or an empty string is a schema_violation", () => {
    expect(refused(lenient({ event: "x.y", schema_version: true })).errors[0]?.path).toBe("schema_version");
    expect(refused(lenient({ event: "x.y", schema_version: "" })).errors[0]?.path).toBe("schema_version");
  });
});

describe("envelope bodies and event types", () => {
  it.each([
    ["an array", [seedClick], "body must be a JSON object, not an array"],
    ["null", null, "body must be a JSON object, not null"],
    ["a string", "link.clicked", "body must be a JSON object, not a string"],
    ["a number", 42, "body must be a JSON object, not a number"],
  ])("body - %s is a schema_violation", (_, body, message) => {
    const result = refused(lenient(body));
    expect(result.message).toBe(message);
    expect(result.errors).toEqual([{ path: "", message: message.replace(/^body /, "") }]);
  });

  it("event type - missing is a schema_violation naming the accepted names", () => {
    expect(refused(lenient({ data: {} })).message).toBe('event_type is required (as "event_type", "event" or "type")');
  });

  it.each([
    ["a space", "link clicked"],
    ["a wildcard", "link.*"],
    ["a tail wildcard", "link.>"],
    ["an empty token", "link..clicked"],
    ["a leading dot", ".link"],
    ["a trailing dot", "link."],
    ["an empty string", ""],
    ["a slash", "link/clicked"],
    ["a non-ASCII letter", "lïnk.clicked"],
    ["101 characters", "a".repeat(101)],
    ["a number", 42],
  ])("event type - %s is refused as subject-unsafe", (_, type) => {
    const result = refused(lenient({ event: type }));
    expect(result.errors[0]?.path).toBe("event");
    expect(result.message).toMatch(/^event must be a string of 1-100 characters: dot-separated tokens/);
  });

  it("event type - 100 characters with - and _ are accepted", () => {
    const type = `${"a".repeat(48)}_-.${"b".repeat(49)}`;
    expect(type).toHaveLength(100);
    expect(accepted(lenient({ event: type })).eventType).toBe(type);
  });
});

describe("unknown event types", () => {
  it("unknown type - accepted with known: false when the source is not strict", () => {
    const event = accepted(lenient({ event: "order.refunded", data: [1, 2] }));
    expect(event).toMatchObject({ eventType: "order.refunded", known: false });
  });

  it("unknown type - refused with a message naming the type when the source is strict", () => {
    const result = refused(strict({ event: "order.refunded", data: {} }));
    expect(result.message).toBe(
      'event "order.refunded" is not a known event type, and this source is strict (it accepts known types only)',
    );
    expect(result.errors[0]?.path).toBe("event");
  });

  it("unknown type - a strict source still accepts known types", () => {
    expect(accepted(strict(seedClick)).known).toBe(true);
  });

  it("unknown type - prototype names are unknown types, not inherited schemas", () => {
    expect(accepted(lenient({ event: "constructor", data: 1 })).known).toBe(false);
    expect(accepted(lenient({ event: "toString" })).known).toBe(false);
  });

  it("unknown type - types are case-sensitive", () => {
    expect(accepted(lenient({ event: "Link.Clicked", data: 1 })).known).toBe(false);
  });
});

describe("known types need a data object", () => {
  it.each([
    ["missing", undefined, "it is missing"],
    ["null", null, "got null"],
    ["an array", [], "got an array"],
    ["a string", "x", "got a string"],
  ])("data - %s is a schema_violation", (_, data, found) => {
    const result = refused(lenient({ event: "link.clicked", data }));
    expect(result.message).toBe(`data must be an object for event type "link.clicked" (${found})`);
  });
});

describe("createEventValidator", () => {
  it("validator - never changes the body", () => {
    const body = { event: "link.opened", timestamp: 1772634728, data: { is_deferred: false } };
    const copy = structuredClone(body);
    accepted(lenient(body));
    expect(body).toEqual(copy);
  });

  it("validator - validators share one compilation and agree", () => {
    expect(createEventValidator().validate(seedClick, { strict: true })).toEqual(lenient(seedClick));
  });
});

describe("provider envelopes", () => {
  it("envelope - Stripe's type and created (epoch seconds) are the event type and time", () => {
    const result = createEventValidator().validate(
      { id: "evt_1", object: "event", type: "charge.succeeded", created: 1700000000, data: { object: {} } },
      { strict: false },
    );
    expect(result).toMatchObject({
      ok: true,
      event: { eventType: "charge.succeeded", eventId: "evt_1", occurredAt: "2023-11-14T22:13:20.000Z", known: false },
    });
  });
});

describe("event type from a header", () => {
  it("envelope - a body without a type takes the header's type; a type in the body wins", () => {
    const validator = createEventValidator();
    expect(validator.validate({ ref: "refs/heads/main" }, { strict: false, eventType: "push" })).toMatchObject({
      ok: true,
      event: { eventType: "push" },
    });
    expect(validator.validate({ type: "charge.succeeded" }, { strict: false, eventType: "push" })).toMatchObject({
      ok: true,
      event: { eventType: "charge.succeeded" },
    });
    expect(validator.validate({ ref: "x" }, { strict: false, eventType: "bad type!" })).toMatchObject({
      ok: false,
      code: "schema_violation",
    });
  });
});

import { describe, expect, it } from "vitest";
import {
  createEventValidator,
  EVENT_DATA_SCHEMAS,
  isKnownEventType,
  KNOWN_EVENT_TYPES,
  type KnownEventType,
} from "../src/index.js";

const validator = createEventValidator();

interface Case {
  /** A payload as the senders document it (or built from their field lists; docs/providers.md). */
  valid: Record<string, unknown>;
  /** One wrong payload, and the message a sender gets for it. */
  invalid: Record<string, unknown>;
  message: string;
}

const cases: Record<KnownEventType, Case> = {
  "link.clicked": {
    // deep-link webhooks
    valid: {
      link_id: "lnk_8xKp2mVq",
      url: "https://app.example.com/product/42",
      campaign: "spring-sale",
      channel: "email",
      referrer: "https://mail.google.com/",
      user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 19_3 like Mac OS X)",
      ip_country: "US",
      ip_region: "CA",
      platform: "ios",
    },
    invalid: { link_id: 42 },
    message: "data.link_id must be string",
  },
  "link.opened": {
    // deep-link webhooks
    valid: {
      link_id: "lnk_8xKp2mVq",
      route: "/product/:id",
      route_params: { id: "42" },
      platform: "ios",
      app_version: "3.2.1",
      is_deferred: false,
    },
    invalid: { is_deferred: "no" },
    message: "data.is_deferred must be boolean",
  },
  "link.deferred_install": {
    // deep-link webhooks
    valid: {
      link_id: "lnk_8xKp2mVq",
      original_click_at: "2026-03-04T14:32:08.441Z",
      platform: "ios",
      campaign: "spring-sale",
      channel: "email",
      match_method: "fingerprint",
      match_confidence: 0.92,
    },
    invalid: { match_confidence: 92 },
    message: "data.match_confidence must be <= 1",
  },
  "deferred_link.claimed": {
    valid: { link_id: "lnk_8xKp2mVq", platform: "android", original_click_at: "2026-03-04T14:32:08Z" },
    invalid: { original_click_at: "last tuesday" },
    message: 'data.original_click_at must be an ISO-8601 date-time with a time zone, e.g. "2026-03-04T14:32:08.441Z"',
  },
  "install.tracked": {
    valid: { platform: "android", campaign: "summer2026" },
    invalid: { platform: 7 },
    message: "data.platform must be string",
  },
  "referral.created": {
    valid: { referral_code: "FRIEND-42", referrer_id: 1001, referrer_token: "tok_abc" },
    invalid: { referrer_id: "u_1" },
    message: "data.referral_code is required",
  },
  "referral.completed": {
    // the deferred-link reward handler
    valid: { referral_code: "FRIEND-42", referrer_id: "u_1", referred_user_id: "u_2" },
    invalid: { referral_code: "FRIEND-42", referred_user_id: 1.5 },
    message: "data.referred_user_id must be a non-empty string or an integer",
  },
  "link.conversion": {
    // the deep-link CRM handler
    valid: { user_id: "contact_9", campaign: "spring-sale", channel: "email", revenue: 49.99 },
    invalid: { revenue: "49.99" },
    message: "data.revenue must be number",
  },
  "click.created": {
    // click-tracking, flat
    valid: {
      link_id: "lnk_1",
      workspace_id: "ws_1",
      ip_hash: "9f2c",
      device_type: "mobile",
      country: "DE",
      referrer_category: "social",
      is_unique: true,
      bot_score: 0.02,
      is_suspicious: false,
      channel: "social",
      tags: ["launch", "q1"],
      redirect_status: "success",
    },
    invalid: { is_unique: "yes" },
    message: "data.is_unique must be boolean",
  },
  "click.flagged": {
    valid: { link_id: "lnk_1", is_suspicious: true, fraud_reason: "datacenter_ip", bot_score: 0.97 },
    invalid: { link_id: "lnk_1", device_type: "bot" },
    message: "data must carry the verdict: one of fraud_reason, is_suspicious, bot_score (in data or data.click)",
  },
};

describe("known event types", () => {
  it("known types - the list, the schema map and the test table agree", () => {
    expect([...KNOWN_EVENT_TYPES].sort()).toEqual(Object.keys(EVENT_DATA_SCHEMAS).sort());
    expect([...KNOWN_EVENT_TYPES].sort()).toEqual(Object.keys(cases).sort());
    expect(KNOWN_EVENT_TYPES.every(isKnownEventType)).toBe(true);
    expect(isKnownEventType("link.created")).toBe(false);
  });

  describe.each(Object.entries(cases))("%s", (type, { valid, invalid, message }) => {
    it(`${type} - a seed payload is accepted as known`, () => {
      const result = validator.validate(
        { event: type, timestamp: "2026-03-04T14:32:08.441Z", data: valid },
        { strict: true },
      );
      expect(result).toMatchObject({ ok: true, event: { eventType: type, known: true } });
    });

    it(`${type} - extra payload fields are accepted`, () => {
      const data = { ...valid, provider_extra: { nested: [1, 2] }, another: null };
      expect(validator.validate({ event: type, data }, { strict: true }).ok).toBe(true);
    });

    it(`${type} - a wrong field is a schema_violation with its JSON path`, () => {
      const result = validator.validate({ event: type, data: invalid }, { strict: false });
      expect(result).toMatchObject({ ok: false, code: "schema_violation", message });
    });
  });

  it("link.clicked - the deferred-link prefix/token layout is accepted", () => {
    const data = {
      prefix: "promo",
      token: "summer-sale",
      hostname: "links.yourapp.com",
      ip: "203.0.113.42",
      platform: "ios",
      device_type: "mobile",
      campaign: "summer2026",
    };
    expect(
      validator.validate({ event: "link.clicked", timestamp: "2026-05-18T14:32:00.000Z", data }, { strict: true }).ok,
    ).toBe(true);
  });

  it("link.clicked - an empty data object is accepted (nothing is required)", () => {
    expect(validator.validate({ event: "link.clicked", data: {} }, { strict: true }).ok).toBe(true);
  });

  it("click.created - the nested link/click/campaign layout is accepted", () => {
    const data = {
      link: { id: "lnk_1", alias: "spring" },
      click: { device_type: "desktop", referrer_category: "email", is_unique: true },
      campaign: { id: "cmp_1", name: "Spring" },
    };
    expect(validator.validate({ event_type: "click.created", data }, { strict: true }).ok).toBe(true);
  });

  it("click.created - nested fields are checked with their full path", () => {
    const result = validator.validate(
      { event_type: "click.created", data: { click: { is_unique: "yes" } } },
      { strict: true },
    );
    expect(result).toMatchObject({ ok: false, errors: [{ path: "data.click.is_unique", message: "must be boolean" }] });
  });

  it("click.flagged - a verdict nested under data.click is enough", () => {
    const data = { link: { id: "lnk_1" }, click: { fraud_reason: "prefetch" } };
    expect(validator.validate({ event_type: "click.flagged", data }, { strict: true }).ok).toBe(true);
  });

  it("enumerations - values outside the usual ones are accepted, never refused at the edge", () => {
    const result = validator.validate(
      { event: "link.opened", data: { platform: "iPadOS", device_type: "watch" } },
      { strict: true },
    );
    expect(result.ok).toBe(true);
  });
});

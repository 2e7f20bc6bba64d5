import { Type, type Static } from "@sinclair/typebox";

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 20;

const Text = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 512, description }));
const Instant = (description: string) => Type.Optional(Type.String({ format: "date-time", description }));

/** Where a click came from, as enrichment classifies its referrer. */
export const REFERRER_CATEGORIES = ["search", "social", "email", "direct", "internal", "other"] as const;

/** Filters of every events and analytics route beside the dimensions: bots, suspicious events, referrer. */
const trafficFilters = {
  include_bots: Type.Optional(
    Type.Boolean({ default: true, description: "false: leave out events whose is_bot is true (default: every event)" }),
  ),
  include_suspicious: Type.Optional(
    Type.Boolean({
      default: true,
      description: "false: leave out events whose is_suspicious is true (default: every event)",
    }),
  ),
  referrer_category: Type.Optional(
    Type.String({ enum: [...REFERRER_CATEGORIES], description: "only events whose referrer is of this category" }),
  ),
};

const filters = {
  source: Text("only this source (must be in the token's scope)"),
  type: Text("event type, e.g. link.clicked"),
  campaign: Text("campaign id"),
  country: Type.Optional(
    Type.String({ pattern: "^[A-Z]{2}$", description: "ISO 3166-1 alpha-2 country of the click, e.g. US" }),
  ),
  device: Type.Optional(
    Type.String({
      enum: ["mobile", "tablet", "desktop", "smarttv", "console", "wearable", "embedded", "xr", "bot", "unknown"],
      description: "device type",
    }),
  ),
};

export const EventsQuery = Type.Object(
  {
    limit: Type.Integer({
      minimum: 1,
      maximum: MAX_PAGE,
      default: DEFAULT_PAGE,
      description:
        "rows per page at most; a page also ends at the server's byte budget (has_more and next_cursor say so)",
    }),
    starting_after: Text("an event key: the page starts after it (Stripe's convention)"),
    cursor: Text("the next_cursor of the previous page"),
    include_payload: Type.Optional(
      Type.Boolean({ description: "send each event's payload (the body as sent, up to 1 MiB); left out by default" }),
    ),
    ...filters,
    ...trafficFilters,
    link: Text("link id"),
    is_unique: Type.Optional(Type.Boolean({ description: "only unique (true) or repeat (false) clicks" })),
    is_suspicious: Type.Optional(Type.Boolean({ description: "only suspicious (true) or clean (false) events" })),
    occurred_from: Instant("occurred_at >= this instant"),
    occurred_to: Instant("occurred_at < this instant"),
    received_from: Instant("received_at >= this instant"),
    received_to: Instant("received_at < this instant"),
  },
  { additionalProperties: false },
);
export type EventsQuery = Static<typeof EventsQuery>;

export const EventParams = Type.Object({
  key: Type.String({ minLength: 1, maxLength: 1024, description: "the event key, source:event_id" }),
});
export type EventParams = Static<typeof EventParams>;

export const AnalyticsQuerystring = Type.Object(
  {
    ...filters,
    ...trafficFilters,
    link: Text("link id"),
    channel: Text("the sender's channel, e.g. email, social, paid_search"),
    platform: Text("platform, e.g. ios, android, web"),
    from: Instant("the minute of event time (occurred_at, else received_at) >= this instant"),
    to: Instant("the minute of event time < this instant"),
    limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: "buckets at most" }),
  },
  { additionalProperties: false },
);
export type AnalyticsQuerystring = Static<typeof AnalyticsQuerystring>;

const Freshness = Type.Object({
  newest_loaded_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
    description: "the newest row loaded for the sources in scope",
  }),
});

export const AnalyticsResponse = Type.Object({
  object: Type.Literal("analytics"),
  group_by: Type.String({
    description:
      "the grouping: minute, day, country, device, campaign, source, type, link, channel, platform or referrer",
  }),
  data: Type.Array(
    Type.Object({
      key: Type.Union([Type.String(), Type.Null()], {
        description: "the bucket (ISO minute or day) or the dimension's value; null: events without one",
      }),
      events: Type.Integer(),
      unique: Type.Integer({ description: "events enrichment marked unique (is_unique)" }),
      suspicious: Type.Integer(),
      unique_rules: Type.Array(Type.String(), {
        description:
          "the rules that decided the unique events counted here (e.g. per_link_24h): what unique meant for them",
      }),
    }),
  ),
  freshness: Freshness,
});

export const RevenueQuerystring = Type.Object(
  {
    ...AnalyticsQuerystring.properties,
    limit: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 1000,
      description: "rows (campaign and currency) at most",
    }),
  },
  { additionalProperties: false },
);
export type RevenueQuerystring = Static<typeof RevenueQuerystring>;

export const RevenueResponse = Type.Object({
  object: Type.Literal("revenue"),
  data: Type.Array(
    Type.Object({
      campaign: Type.Union([Type.String(), Type.Null()], { description: "null: conversions without a campaign" }),
      currency: Type.Union([Type.String(), Type.Null()], { description: "ISO 4217; null: amounts sent without one" }),
      conversions: Type.Integer({ description: "events with a revenue" }),
      revenue: Type.String({
        pattern: "^-?[0-9]+(\\.[0-9]+)?$",
        description: "the exact decimal sum, as text (never a binary float): 1234.5",
      }),
    }),
  ),
  freshness: Freshness,
});

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

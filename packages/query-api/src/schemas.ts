import { Type, type Static } from "@sinclair/typebox";

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 20;

const Text = (description: string) => Type.Optional(Type.String({ minLength: 1, maxLength: 512, description }));
const Instant = (description: string) => Type.Optional(Type.String({ format: "date-time", description }));

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
    from: Instant("event time (occurred_at, else received_at) >= this instant"),
    to: Instant("event time < this instant"),
    limit: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: "buckets at most" }),
  },
  { additionalProperties: false },
);
export type AnalyticsQuerystring = Static<typeof AnalyticsQuerystring>;

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});

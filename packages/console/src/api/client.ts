import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema";

/** The typed client of the query and management APIs (the paths come from their OpenAPI document). */
export type Api = Client<paths>;

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
/** The JSON body of a route's answer with `status`. */
export type Answer<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: infer R;
}
  ? S extends keyof R
    ? Json<R[S]>
    : never
  : never;
/** The JSON body a route takes. */
export type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

export type Subscription = Answer<"/v1/subscriptions/{id}", "get", 200>;
export type Source = Answer<"/v1/sources/{id}", "get", 200>;
export type TestSend = Answer<"/v1/subscriptions/{id}/test", "post", 200>;
export type EventQuery = NonNullable<paths["/v1/events"]["get"]["parameters"]["query"]>;

/**
 * An event as `GET /v1/events` and `GET /v1/events/{key}` answer it. The OpenAPI document gives
 * these two routes no success schema (only their parameters and refusals), so this one shape is
 * written here, after the warehouse's row: the stored event, its enriched columns, its load order.
 */
export interface EventRow {
  object: "event";
  event_key: string;
  source: string;
  event_id: string;
  event_type: string;
  schema_version: string | null;
  occurred_at: string | null;
  received_at: string;
  loaded_at: string;
  region: string;
  region_seq: number;
  load_seq: number;
  /** When it was erased (payload, ip_anon and visitor_hash removed); null when it was not. */
  erased_at: string | null;
  payload?: unknown;
  link_id: string | null;
  campaign: string | null;
  campaign_meta: unknown;
  geo_country: string | null;
  geo_region: string | null;
  device_type: string | null;
  os_name: string | null;
  browser_name: string | null;
  is_bot: boolean | null;
  bot_kind: string | null;
  referrer_category: string | null;
  ip_anon: string | null;
  is_unique: boolean | null;
  is_suspicious: boolean | null;
  suspicious_reason: string | null;
  channel: string | null;
  platform: string | null;
  revenue: string | null;
  currency: string | null;
  unique_rule: string | null;
}

export interface EventPage {
  object: "list";
  data: EventRow[];
  has_more: boolean;
  next_cursor: string | null;
  freshness: { newest_loaded_at: string | null };
}

/** The analytics views (`GET /v1/analytics/{view}`), each one grouping of the per-minute rollup. */
export type AnalyticsView =
  | "minutes"
  | "days"
  | "countries"
  | "devices"
  | "campaigns"
  | "sources"
  | "types"
  | "links"
  | "channels"
  | "platforms"
  | "referrers";
/** Conversions' revenue per campaign and currency (`GET /v1/analytics/revenue`): exact decimal sums as text. */
export type RevenueRow =
  paths["/v1/analytics/revenue"]["get"]["responses"]["200"]["content"]["application/json"]["data"][number];
export type AnalyticsQuery = NonNullable<paths["/v1/analytics/minutes"]["get"]["parameters"]["query"]>;

/**
 * An analytics answer. As for events, the document gives these routes no success schema, so the
 * shape is written here after the route: one row per bucket (an ISO minute or day, or the value of
 * the dimension; null for unknown), and the freshness every answer carries.
 */
export interface AnalyticsAnswer {
  object: "analytics";
  group_by: string;
  data: Array<{ key: string | null; events: number; unique: number; suspicious: number }>;
  freshness: { newest_loaded_at: string | null };
}

/** A refusal in the APIs' one error format. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

/** Reads an error body (`{"error":{code,message,field}}`) into an ApiError, whatever came back. */
export function apiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  return {
    status,
    code: typeof error?.code === "string" ? error.code : `http_${status}`,
    message: typeof error?.message === "string" ? error.message : `the API answered ${status}`,
    ...(typeof error?.field === "string" ? { field: error.field } : {}),
  };
}

/**
 * A client that sends `token` as a bearer token on every request, to the API of the origin that
 * served the console; `onRefused` hears of every 401 and 403 (the session learns from them).
 */
export function apiClient(token: string, onRefused: (error: ApiError) => void): Api {
  const client = createClient<paths>({ baseUrl: window.location.origin });
  client.use({
    onRequest({ request }) {
      request.headers.set("authorization", `Bearer ${token}`);
      return request;
    },
    async onResponse({ response }) {
      if (response.status === 401 || response.status === 403)
        onRefused(
          apiError(
            response.status,
            await response
              .clone()
              .json()
              .catch(() => undefined),
          ),
        );
      return response;
    },
  });
  return client;
}

/** The data of an answer, or throws its ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw apiError(result.response.status, result.error);
  return result.data as T;
}

import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AnalyticsFilter, AnalyticsGroup, EventQueries } from "@tributary/warehouse";
import { OWN_AUTH } from "@tributary/runtime";
import { scopeSources } from "../auth.js";
import {
  AnalyticsQuerystring,
  AnalyticsResponse,
  ErrorResponse,
  RevenueQuerystring,
  RevenueResponse,
} from "../schemas.js";
import { date, freshness, refuseUnknown } from "./common.js";

/** The analytics views: path segment → grouping. */
export const ANALYTICS_VIEWS: Readonly<Record<string, AnalyticsGroup>> = {
  minutes: "minute",
  days: "day",
  countries: "country",
  devices: "device",
  campaigns: "campaign",
  sources: "source",
  types: "type",
  links: "link",
  channels: "channel",
  platforms: "platform",
  referrers: "referrer",
};

const REFUSALS = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse };

/** The filters of a request, in the token's scope. */
function filterOf(request: FastifyRequest<{ Querystring: AnalyticsQuerystring }>): AnalyticsFilter {
  const q = request.query;
  return {
    sources: scopeSources(request.principal!, q.source),
    type: q.type,
    campaign: q.campaign,
    country: q.country,
    device: q.device,
    link: q.link,
    channel: q.channel,
    platform: q.platform,
    referrerCategory: q.referrer_category,
    includeBots: q.include_bots,
    includeSuspicious: q.include_suspicious,
    from: date(q.from),
    to: date(q.to),
  };
}

/**
 * `GET /v1/analytics/{view}`: event counts per bucket, one route per view (DuckDB: from its
 * rollups, or the rows where no rollup has what is asked; ClickHouse: aggregated when asked), and
 * `GET /v1/analytics/revenue`: conversions per campaign and currency with exact sums.
 */
export function registerAnalyticsRoutes(app: FastifyInstance, queries: EventQueries): void {
  for (const [view, groupBy] of Object.entries(ANALYTICS_VIEWS)) {
    app.get<{ Querystring: AnalyticsQuerystring }>(
      `/v1/analytics/${view}`,
      {
        config: { ...OWN_AUTH },
        preValidation: refuseUnknown(Object.keys(AnalyticsQuerystring.properties)),
        schema: {
          summary: `Event counts by ${groupBy}, with unique counts and the rules that decided them (equal to the rows loaded)`,
          querystring: AnalyticsQuerystring,
          response: { 200: AnalyticsResponse, ...REFUSALS },
        },
      },
      async (request) => {
        const filter = filterOf(request);
        const [rows, fresh] = await Promise.all([
          queries.analytics({ ...filter, groupBy, limit: request.query.limit }),
          freshness(queries, filter.sources),
        ]);
        return { object: "analytics", group_by: groupBy, data: rows, freshness: fresh };
      },
    );
  }
  app.get<{ Querystring: RevenueQuerystring }>(
    "/v1/analytics/revenue",
    {
      config: { ...OWN_AUTH },
      preValidation: refuseUnknown(Object.keys(RevenueQuerystring.properties)),
      schema: {
        summary: "Revenue of conversions (events with a revenue) per campaign and currency, summed exactly",
        description:
          "Amounts are summed as decimals (never binary floats) and sent as text; currencies are never added together.",
        querystring: RevenueQuerystring,
        response: { 200: RevenueResponse, ...REFUSALS },
      },
    },
    async (request) => {
      const filter = filterOf(request);
      const [rows, fresh] = await Promise.all([
        queries.revenue({ ...filter, limit: request.query.limit }),
        freshness(queries, filter.sources),
      ]);
      return { object: "revenue", data: rows, freshness: fresh };
    },
  );
}

import type { FastifyInstance } from "fastify";
import type { AnalyticsGroup, EventQueries } from "@tributary/warehouse";
import { OWN_AUTH } from "@tributary/runtime";
import { scopeSources } from "../auth.js";
import { AnalyticsQuerystring, ErrorResponse } from "../schemas.js";
import { date, freshness, refuseUnknown } from "./common.js";

/** The analytics views: path segment → rollup grouping. */
export const ANALYTICS_VIEWS: Readonly<Record<string, AnalyticsGroup>> = {
  minutes: "minute",
  days: "day",
  countries: "country",
  devices: "device",
  campaigns: "campaign",
  sources: "source",
  types: "type",
};

/** `GET /v1/analytics/{view}`: event counts per bucket from the per-minute rollup, one route per view. */
export function registerAnalyticsRoutes(app: FastifyInstance, queries: EventQueries): void {
  for (const [view, groupBy] of Object.entries(ANALYTICS_VIEWS)) {
    app.get<{ Querystring: AnalyticsQuerystring }>(
      `/v1/analytics/${view}`,
      {
        config: { ...OWN_AUTH },
        preValidation: refuseUnknown(Object.keys(AnalyticsQuerystring.properties)),
        schema: {
          summary: `Event counts by ${groupBy} (from the per-minute rollup: equal to the rows loaded)`,
          querystring: AnalyticsQuerystring,
          response: { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse },
        },
      },
      async (request) => {
        const q = request.query;
        const sources = scopeSources(request.principal!, q.source);
        const [rows, fresh] = await Promise.all([
          queries.analytics({
            groupBy,
            sources,
            type: q.type,
            campaign: q.campaign,
            country: q.country,
            device: q.device,
            from: date(q.from),
            to: date(q.to),
            limit: q.limit,
          }),
          freshness(queries, sources),
        ]);
        return { object: "analytics", group_by: groupBy, data: rows, freshness: fresh };
      },
    );
  }
}

import type {} from "@fastify/swagger";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import { ID_PATTERN } from "@tributary/streams";
import { ManagementError } from "./errors.js";
import { mayRead, readableSources } from "./hub.js";
import { requireScope } from "./scopes.js";
import { ErrorReply } from "./subscriptions.js";

// The source id goes into the query: only ids that can be sources (no quote can reach PromQL).
const SourceParams = Type.Object({ id: Type.String({ pattern: ID_PATTERN.source }) });

/**
 * The PromQL of a source's refusals over the last hour, by region and code. The gateways count
 * refusals in-process (`tributary_gateway_events_total{outcome="refused"}`); only the Prometheus
 * that scrapes every region's gateway holds them all, so that is where this asks.
 */
export function refusalsQuery(source: string): string {
  return `sum by (region, code) (increase(tributary_gateway_events_total{source="${source}", outcome="refused"}[1h]))`;
}

const RefusalsReply = Type.Object({
  source: Type.String(),
  window: Type.Literal("1h"),
  query: Type.String({ description: "the PromQL asked" }),
  data: Type.Array(Type.Object({ region: Type.String(), code: Type.String(), count: Type.Integer() })),
});

/** Prometheus's instant-query answer, as far as this reads it. */
interface PromAnswer {
  status?: string;
  error?: string;
  data?: { result?: Array<{ metric?: Record<string, string>; value?: [number, string] }> };
}

/**
 * `GET /v1/sources/{id}/refusals` (read): what the gateways refused of this source in the last
 * hour, by region and code (a sender's wrong signature shows as `signature_invalid`), from the
 * Prometheus named by the aggregator's `control.prometheusUrl`. Without one it answers
 * refusals_unavailable, and the console shows the query to run instead.
 */
export function registerRefusalRoutes(app: FastifyInstance, prometheusUrl: string | undefined): void {
  app.get<{ Params: { id: string } }>(
    "/v1/sources/:id/refusals",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["sources"],
        params: SourceParams,
        response: { 200: RefusalsReply, 404: ErrorReply, 503: ErrorReply },
      },
    },
    async (request) => {
      requireScope(request, "read");
      const source = request.params.id;
      // A token scoped to other sources learns nothing of this one, as in the events API.
      if (!mayRead(readableSources(request), source))
        throw new ManagementError("resource_not_found", `no source ${source}`);
      const query = refusalsQuery(source);
      if (!prometheusUrl)
        throw new ManagementError(
          "refusals_unavailable",
          `no Prometheus is configured; ask the one that scrapes the gateways: ${query}`,
        );
      let answer: PromAnswer;
      try {
        const res = await fetch(
          `${prometheusUrl.replace(/\/+$/, "")}/api/v1/query?query=${encodeURIComponent(query)}`,
          {
            signal: AbortSignal.timeout(5_000),
          },
        );
        answer = (await res.json()) as PromAnswer;
      } catch (err) {
        throw new ManagementError("metrics_unavailable", `Prometheus did not answer: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (answer.status !== "success")
        throw new ManagementError(
          "metrics_unavailable",
          `Prometheus refused the query: ${answer.error ?? "no reason"}`,
        );
      const data = (answer.data?.result ?? [])
        .map((r) => ({
          region: r.metric?.region ?? "",
          code: r.metric?.code ?? "",
          // increase() extrapolates to the window's edges: whole refusals are what a person counts.
          count: Math.round(Number(r.value?.[1] ?? 0)),
        }))
        .filter((r) => r.count > 0)
        .sort((a, b) => b.count - a.count || a.region.localeCompare(b.region) || a.code.localeCompare(b.code));
      return { source, window: "1h" as const, query, data };
    },
  );
}

import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import type { AnalyticsGroup, EventFilter, EventQueries, QueriedEvent } from "@tributary/warehouse";
import { isLoopback, scopeSources, TokenRegistry, type ApiToken, type Principal } from "./auth.js";
import { ApiError, errorBody } from "./errors.js";
import { AnalyticsQuerystring, DEFAULT_PAGE, ErrorResponse, EventParams, EventsQuery } from "./schemas.js";

export interface QueryApiDeps {
  queries: EventQueries;
  tokens: readonly ApiToken[];
  /**
   * Requests without a token from a loopback address read every source (the local
   * `tributary rows` and dev loop). Off by default; remote callers always need a token.
   */
  anonymousLoopback?: boolean;
  /** Requests per window per token (or per address without one). Default 600 per minute. */
  rateLimit?: { max: number; windowMs: number };
}

export const DEFAULT_API_RATE_LIMIT = { max: 600, windowMs: 60_000 };

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

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function encodeCursor(loadSeq: number): string {
  return Buffer.from(`seq:${loadSeq}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^seq:(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match || !Number.isSafeInteger(Number(match[1])))
    throw new ApiError(
      "invalid_parameter",
      "cursor is not a cursor this API issued: pass next_cursor unchanged",
      "cursor",
    );
  return Number(match[1]);
}

const date = (text: string | undefined) => (text === undefined ? undefined : new Date(text));

function present(event: QueriedEvent): Record<string, unknown> {
  return {
    object: "event",
    ...event,
    campaign_meta: event.campaign_meta === null ? null : (JSON.parse(event.campaign_meta) as unknown),
  };
}

/** The field a schema error is about: the unknown, missing or invalid parameter. */
function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const params = first.params as { missingProperty?: string; additionalProperty?: string };
  return (
    params.additionalProperty ??
    params.missingProperty ??
    (first.instancePath.replace(/^\//, "").replace(/\//g, ".") || undefined)
  );
}

/**
 * The query API as an encapsulated Fastify plugin: its own auth, rate limit, error format and
 * OpenAPI document, whatever the host app does. Register it on the aggregator (DuckDB: the
 * process that owns the file) or on a standalone server (ClickHouse).
 */
export async function queryApiPlugin(app: FastifyInstance, deps: QueryApiDeps): Promise<void> {
  const registry = new TokenRegistry(deps.tokens);
  const limits = deps.rateLimit ?? DEFAULT_API_RATE_LIMIT;

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof ApiError) {
      if (err.code === "unauthorized") void reply.header("www-authenticate", 'Bearer realm="tributary"');
      return reply.code(err.status).send(errorBody(err.code, err.message, err.field));
    }
    if (err.validation) {
      const field = fieldOf(err);
      const message = err.validation[0]?.message ?? "invalid";
      return reply.code(400).send(errorBody("invalid_parameter", field ? `${field} ${message}` : err.message, field));
    }
    if ((err as { code?: string }).code === "warehouse_unavailable")
      return reply
        .code(503)
        .header("retry-after", "5")
        .send(errorBody("warehouse_unavailable", "the warehouse did not answer; retry later"));
    request.log.error({ err }, "query API request failed");
    return reply.code(500).send({ error: { code: "internal", message: "internal error" } });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "Tributary query API",
        version: "1.0.0",
        description:
          "Events as loaded (raw payload plus enriched columns), cursor pages, analytics rollups; every answer says its freshness.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });

  await app.register(rateLimit, {
    max: limits.max,
    timeWindow: limits.windowMs,
    // Per valid token (a leaked or busy token cannot starve the others); everything else per address,
    // so made-up tokens neither escape the limit nor crowd real tokens out of the limiter's store.
    keyGenerator: (request: FastifyRequest) => {
      const principal = registry.authenticate(request.headers.authorization);
      return principal ? `t:${principal.id}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) =>
      new ApiError("rate_limited", `more than ${context.max} requests in ${context.after}; retry later`),
  });

  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.url === "/v1/openapi.json") return;
    const principal = registry.authenticate(request.headers.authorization);
    if (principal) {
      request.principal = principal;
      return;
    }
    if (
      request.headers.authorization === undefined &&
      deps.anonymousLoopback &&
      isLoopback(request.socket.remoteAddress)
    ) {
      request.principal = { id: "loopback", sources: undefined };
      return;
    }
    throw new ApiError(
      "unauthorized",
      request.headers.authorization ? "the bearer token is not valid" : "send Authorization: Bearer <token>",
    );
  });

  // Unknown parameters are refused by name (a misspelt filter must not silently return everything).
  const refuseUnknown = (allowed: readonly string[]) => async (request: FastifyRequest) => {
    for (const name of Object.keys(request.query as object)) {
      if (!allowed.includes(name))
        throw new ApiError(
          "invalid_parameter",
          `${name} is not a parameter of this endpoint (use ${allowed.join(", ")})`,
          name,
        );
    }
  };

  const freshness = async (sources: readonly string[] | undefined) => ({
    newest_loaded_at: await deps.queries.freshness(sources),
  });

  app.get<{ Querystring: EventsQuery }>(
    "/v1/events",
    {
      preValidation: refuseUnknown(Object.keys(EventsQuery.properties)),
      schema: {
        summary: "List events, newest load first, with filters and cursor pagination",
        description:
          "Pages follow the warehouse's load sequence: rows loaded while you page never shift a page, so paging down returns every row that existed when you began exactly once.",
        querystring: EventsQuery,
        response: { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse },
      },
    },
    async (request) => {
      const q = request.query;
      const sources = scopeSources(request.principal!, q.source);
      if (q.cursor !== undefined && q.starting_after !== undefined)
        throw new ApiError("invalid_parameter", "give cursor or starting_after, not both", "starting_after");
      let startingAfter = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
      if (q.starting_after !== undefined) {
        const anchor = await deps.queries.getEvent(q.starting_after);
        if (!anchor || (sources !== undefined && !sources.includes(anchor.source)))
          throw new ApiError(
            "invalid_parameter",
            `starting_after: no event ${q.starting_after} in scope to start after`,
            "starting_after",
          );
        startingAfter = anchor.load_seq;
      }
      const filter: EventFilter = {
        sources,
        type: q.type,
        link: q.link,
        campaign: q.campaign,
        country: q.country,
        device: q.device,
        isUnique: q.is_unique,
        isSuspicious: q.is_suspicious,
        occurredFrom: date(q.occurred_from),
        occurredTo: date(q.occurred_to),
        receivedFrom: date(q.received_from),
        receivedTo: date(q.received_to),
      };
      const [page, fresh] = await Promise.all([
        deps.queries.listEvents(filter, { limit: q.limit ?? DEFAULT_PAGE, startingAfter }),
        freshness(sources),
      ]);
      const last = page.rows.at(-1);
      return {
        object: "list",
        data: page.rows.map(present),
        has_more: page.hasMore,
        next_cursor: page.hasMore && last ? encodeCursor(last.load_seq) : null,
        freshness: fresh,
      };
    },
  );

  app.get<{ Params: EventParams }>(
    "/v1/events/:key",
    {
      schema: {
        summary: "One event by its key",
        params: EventParams,
        response: { 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const event = await deps.queries.getEvent(request.params.key);
      if (!event) throw new ApiError("not_found", `no event ${request.params.key}`);
      const sources = request.principal!.sources;
      if (sources !== undefined && !sources.includes(event.source))
        throw new ApiError(
          "forbidden_source",
          `token ${request.principal!.id} may not read source ${event.source}`,
          "key",
        );
      return { ...present(event), freshness: await freshness([event.source]) };
    },
  );

  for (const [view, groupBy] of Object.entries(ANALYTICS_VIEWS)) {
    app.get<{ Querystring: AnalyticsQuerystring }>(
      `/v1/analytics/${view}`,
      {
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
          deps.queries.analytics({
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
          freshness(sources),
        ]);
        return { object: "analytics", group_by: groupBy, data: rows, freshness: fresh };
      },
    );
  }

  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}

/** Registers the query API on an app (encapsulated: its hooks and limits stay inside). */
export async function registerQueryApi(app: FastifyInstance, deps: QueryApiDeps): Promise<void> {
  await app.register(queryApiPlugin, deps);
}

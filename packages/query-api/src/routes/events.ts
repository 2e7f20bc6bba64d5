import type { FastifyInstance } from "fastify";
import type { EventFilter, EventQueries, QueriedEvent } from "@tributary/warehouse";
import { OWN_AUTH } from "@tributary/runtime";
import { scopeSources } from "../auth.js";
import { ApiError } from "../errors.js";
import { readPage } from "../page.js";
import { DEFAULT_PAGE, ErrorResponse, EventParams, EventsQuery } from "../schemas.js";
import { date, freshness, refuseUnknown } from "./common.js";

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

/** An event as the API shows it; list pages leave the payload (up to 1 MiB each) out unless asked. */
function present(event: QueriedEvent, withPayload = true): Record<string, unknown> {
  const { payload, ...rest } = event;
  return {
    object: "event",
    ...rest,
    ...(withPayload ? { payload } : {}),
    campaign_meta: event.campaign_meta === null ? null : (JSON.parse(event.campaign_meta) as unknown),
  };
}

/** The load sequence a page starts after: from `cursor`, or from the event `starting_after` names (in scope). */
async function startingAfterOf(
  queries: EventQueries,
  q: EventsQuery,
  sources: readonly string[] | undefined,
): Promise<number | undefined> {
  if (q.cursor !== undefined && q.starting_after !== undefined)
    throw new ApiError("invalid_parameter", "give cursor or starting_after, not both", "starting_after");
  if (q.cursor !== undefined) return decodeCursor(q.cursor);
  if (q.starting_after === undefined) return undefined;
  const anchor = await queries.getEvent(q.starting_after);
  if (!anchor || (sources !== undefined && !sources.includes(anchor.source)))
    throw new ApiError(
      "invalid_parameter",
      `starting_after: no event ${q.starting_after} in scope to start after`,
      "starting_after",
    );
  return anchor.load_seq;
}

function filterOf(q: EventsQuery, sources: readonly string[] | undefined): EventFilter {
  return {
    sources,
    type: q.type,
    link: q.link,
    campaign: q.campaign,
    country: q.country,
    device: q.device,
    isUnique: q.is_unique,
    isSuspicious: q.is_suspicious,
    includeBots: q.include_bots,
    includeSuspicious: q.include_suspicious,
    referrerCategory: q.referrer_category,
    occurredFrom: date(q.occurred_from),
    occurredTo: date(q.occurred_to),
    receivedFrom: date(q.received_from),
    receivedTo: date(q.received_to),
  };
}

/**
 * `GET /v1/events` (filtered cursor pages by load sequence, at most `maxPageBytes` each) and
 * `GET /v1/events/:key`.
 */
export function registerEventRoutes(app: FastifyInstance, queries: EventQueries, maxPageBytes: number): void {
  app.get<{ Querystring: EventsQuery }>(
    "/v1/events",
    {
      config: { ...OWN_AUTH },
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
      const startingAfter = await startingAfterOf(queries, q, sources);
      const [page, fresh] = await Promise.all([
        readPage(queries, filterOf(q, sources), {
          limit: q.limit ?? DEFAULT_PAGE,
          startingAfter,
          maxBytes: maxPageBytes,
        }),
        freshness(queries, sources),
      ]);
      const last = page.rows.at(-1);
      return {
        object: "list",
        data: page.rows.map((event) => present(event, q.include_payload === true)),
        has_more: page.hasMore,
        next_cursor: page.hasMore && last ? encodeCursor(last.load_seq) : null,
        freshness: fresh,
      };
    },
  );

  app.get<{ Params: EventParams }>(
    "/v1/events/:key",
    {
      config: { ...OWN_AUTH },
      schema: {
        summary: "One event by its key, with its payload",
        params: EventParams,
        response: { 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const event = await queries.getEvent(request.params.key);
      const sources = request.principal!.sources;
      // Another source's event is "not found", word for word: a token must not learn which keys exist elsewhere.
      if (!event || (sources !== undefined && !sources.includes(event.source)))
        throw new ApiError("not_found", `no event ${request.params.key}`);
      return { ...present(event), freshness: await freshness(queries, [event.source]) };
    },
  );
}

import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import type { DeliveryLogStore, EventQueries } from "@tributary/warehouse";
import { ApiError } from "../errors.js";
import { ErrorResponse, EventParams } from "../schemas.js";

/** What the delivery log answers the API with (the warehouse's `deliveries` table). */
export type DeliveryLogReader = Pick<DeliveryLogStore, "recentDeliveries" | "countDeliveries" | "deliveryHealth">;

/** Attempts returned at most by one call. */
export const MAX_ATTEMPTS_PAGE = 500;

const Attempt = Type.Object({
  subscription: Type.String({ description: "the subscription (destination) the attempt was for" }),
  event_key: Type.String(),
  attempt: Type.Integer({ description: "1 for the first try" }),
  outcome: Type.String({ description: "delivered, retry or dlq" }),
  status: Type.Integer({ description: "the endpoint's HTTP status; 0 when it did not answer" }),
  latency_ms: Type.Number(),
  error: Type.String({ description: "the failure, one line, its body quoted only as a short snippet" }),
  at: Type.String(),
});

const Attempts = Type.Object({ data: Type.Array(Attempt), total: Type.Integer() });

function present(rows: Awaited<ReturnType<DeliveryLogReader["recentDeliveries"]>>) {
  return rows.map(({ destination, event_key, attempt, outcome, status, latency_ms, error, at }) => ({
    subscription: destination,
    event_key,
    attempt,
    outcome,
    status,
    latency_ms,
    error,
    at,
  }));
}

/**
 * The delivery log through the API: every attempt to deliver one event (its timeline), and a
 * subscription's attempts. A token reads an event's attempts when it may read the event; a
 * subscription spans sources, so its attempts take a token for every source.
 */
export function registerDeliveryRoutes(app: FastifyInstance, queries: EventQueries, log: DeliveryLogReader): void {
  app.get<{ Params: EventParams }>(
    "/v1/events/:key/deliveries",
    {
      config: { ...OWN_AUTH },
      schema: {
        summary: "Every delivery attempt of one event, to every subscription, newest first",
        params: EventParams,
        response: { 200: Attempts, 401: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      const event = await queries.getEvent(request.params.key);
      const sources = request.principal!.sources;
      if (!event || (sources !== undefined && !sources.includes(event.source)))
        throw new ApiError("not_found", `no event ${request.params.key}`);
      const query = { eventKey: event.event_key };
      const [rows, total] = await Promise.all([
        log.recentDeliveries(MAX_ATTEMPTS_PAGE, query),
        log.countDeliveries(query),
      ]);
      return { data: present(rows), total };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { outcome?: string; limit: number } }>(
    "/v1/subscriptions/:id/deliveries",
    {
      config: { ...OWN_AUTH },
      schema: {
        summary: "A subscription's delivery attempts, newest first",
        params: Type.Object({ id: Type.String({ pattern: "^[a-z][a-z0-9_-]{0,31}$" }) }),
        querystring: Type.Object(
          {
            outcome: Type.Optional(Type.Union([Type.Literal("delivered"), Type.Literal("retry"), Type.Literal("dlq")])),
            limit: Type.Integer({ minimum: 1, maximum: MAX_ATTEMPTS_PAGE, default: 50 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Attempts, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request) => {
      if (request.principal!.sources !== undefined)
        throw new ApiError("forbidden_source", "a subscription's attempts span sources: use a token for every source");
      const query = {
        destination: request.params.id,
        ...(request.query.outcome ? { outcome: request.query.outcome } : {}),
      };
      const [rows, total] = await Promise.all([
        log.recentDeliveries(request.query.limit, query),
        log.countDeliveries(query),
      ]);
      return { data: present(rows), total };
    },
  );
}

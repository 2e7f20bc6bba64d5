import type { FastifyInstance } from "fastify";
import type { RollupRebuilder } from "@tributary/warehouse";

/** The body of `POST /v1/rollups/rebuild`. */
interface RebuildBody {
  since?: string;
}

/**
 * `POST /v1/rollups/rebuild` (`tributary rebuild rollups [--since <time>]`): recomputes the
 * warehouse's stored rollups from the rows, all of them or every bucket from `since`'s on: the
 * fix-the-code-and-rebuild step. An operator route, registered by the process that owns the
 * warehouse (the aggregator, beside `/v1/reconcile/…`) under its operator guard, not by the query
 * API's plugin: a read token must not make the writer recompute.
 */
export function registerRebuildRoute(app: FastifyInstance, rebuilder: RollupRebuilder): void {
  app.post<{ Body: RebuildBody | undefined }>(
    "/v1/rollups/rebuild",
    {
      schema: {
        body: {
          type: "object",
          properties: { since: { type: "string", format: "date-time" } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const since = request.body?.since;
      return rebuilder.rebuildRollups(since === undefined ? {} : { since: new Date(since) });
    },
  );
}

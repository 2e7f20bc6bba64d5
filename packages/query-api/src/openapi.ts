import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";

/** Where the OpenAPI document is served (to any valid token, like every route of the API). */
export const OPENAPI_PATH = "/v1/openapi.json";

/**
 * Collects the OpenAPI 3 document from the route schemas: register it before the routes, so it
 * sees each one as it is added.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
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
}

/** Serves the document (hidden from itself). */
export function registerOpenApiRoute(app: FastifyInstance): void {
  app.get(OPENAPI_PATH, { config: { ...OWN_AUTH }, schema: { hide: true } }, async () => app.swagger());
}

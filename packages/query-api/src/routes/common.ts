import type { FastifyRequest } from "fastify";
import type { EventQueries } from "@tributary/warehouse";
import { ApiError } from "../errors.js";

/** Unknown parameters are refused by name (a misspelt filter must not silently return everything). */
export function refuseUnknown(allowed: readonly string[]): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    for (const name of Object.keys(request.query as object)) {
      if (!allowed.includes(name))
        throw new ApiError(
          "invalid_parameter",
          `${name} is not a parameter of this endpoint (use ${allowed.join(", ")})`,
          name,
        );
    }
  };
}

/** What every answer carries: the newest row loaded for the sources in scope. */
export async function freshness(
  queries: EventQueries,
  sources: readonly string[] | undefined,
): Promise<{ newest_loaded_at: string | null }> {
  return { newest_loaded_at: await queries.freshness(sources) };
}

export const date = (text: string | undefined): Date | undefined => (text === undefined ? undefined : new Date(text));

import type { FastifyRequest } from "fastify";
import { ManagementError } from "./errors.js";

/** A hub stream read or write that failed for want of the hub (or its stream): 503, not a 500. */
export async function withHub<T>(work: Promise<T>, what = "the hub stream"): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ManagementError) throw err;
    throw new ManagementError("control_unavailable", `${what} did not answer`, { cause: err });
  }
}

/**
 * The sources a request's token may read (undefined: every source), as the host API's auth hook
 * set them: what a dead letter shows is an event's body, so a token sees only its sources' ones.
 */
export function readableSources(request: FastifyRequest): readonly string[] | undefined {
  return (request as { principal?: { sources?: readonly string[] } }).principal?.sources;
}

/** Whether a token that reads `sources` (undefined: every one) may see an event of `source`. */
export function mayRead(sources: readonly string[] | undefined, source: string): boolean {
  return sources === undefined || sources.includes(source);
}

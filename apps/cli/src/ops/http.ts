import { OperatorError } from "./context.js";

/** One of the deployment's HTTP services the operator commands talk to. */
export interface ServiceEndpoint {
  /** How errors name it: "the aggregator", "the delivery process". */
  what: string;
  baseUrl: string;
  /** Bearer token, when the service is not reached over loopback. */
  token: string | undefined;
  /** The context field that holds the token, for the hint when the service refuses. */
  tokenField: string;
  /** What a 404 for a whole route means for this service (an older version, a warehouse without the feature). */
  notServedHint?: string;
}

/**
 * The message of an error answer: ours (`{"error": {code, message}}`), Fastify's own
 * (`{"statusCode", "code", "error": "Bad Request", "message"}`, e.g. a query-string limit exceeded),
 * or the text as it came.
 */
function errorOf(text: string): { code: string | undefined; message: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown; message?: unknown };
    if (body.error !== null && typeof body.error === "object") {
      const e = body.error as { code?: unknown; message?: unknown };
      return { code: typeof e.code === "string" ? e.code : undefined, message: String(e.message ?? text) };
    }
    if (typeof body.message === "string")
      return { code: typeof body.code === "string" ? body.code : undefined, message: body.message };
  } catch {
    // not JSON: the text itself
  }
  return { code: undefined, message: text };
}

/**
 * A JSON request to an operator endpoint, failing with an OperatorError that says what to do: the
 * service is down, refuses without a token, does not serve the path, or answered an error.
 */
export async function serviceJson<T>(
  endpoint: ServiceEndpoint,
  path: string,
  init?: RequestInit & { timeoutMs?: number },
): Promise<T> {
  const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
  if (endpoint.token) headers.authorization = `Bearer ${endpoint.token}`;
  let res: Response;
  try {
    res = await fetch(`${endpoint.baseUrl}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(init?.timeoutMs ?? 60_000),
    });
  } catch (err) {
    throw new OperatorError(
      "unreachable",
      `${endpoint.what} at ${endpoint.baseUrl} did not answer: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new OperatorError(
      "unreachable",
      `${endpoint.what} refused ${path} (${res.status}): put its token in the context as "${endpoint.tokenField}"`,
    );
  if (!res.ok) {
    const error = errorOf(await res.text());
    if (res.status === 404 && error.code !== undefined && error.code !== "not_supported")
      throw new OperatorError("not_found", error.message);
    if (res.status === 404)
      throw new OperatorError(
        "not_found",
        `${endpoint.what} at ${endpoint.baseUrl} does not serve ${path}${error.code ? `: ${error.message}` : `${endpoint.notServedHint ? `: ${endpoint.notServedHint}` : ""}`}`,
      );
    if (res.status === 400) throw new OperatorError("bad_argument", error.message);
    throw new OperatorError("unreachable", `${endpoint.what} answered ${res.status} for ${path}: ${error.message}`);
  }
  return (await res.json()) as T;
}

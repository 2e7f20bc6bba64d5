import { OperatorError, readContext, type OperatorContext } from "./context.js";

/**
 * The management API (sources, subscriptions, audit), served beside the query API by the
 * aggregator: where it is, which token to send, and one request helper whose failures say what to
 * do. Its answers are `{"error": {code, message, field?}}` with the codes of
 * packages/control-api and packages/query-api.
 */

/** The context file's optional fields for the management API (beside what `up` writes). */
export interface ManagementContext extends OperatorContext {
  /** The management API's address, when it is not the aggregator's. */
  apiUrl?: string;
  /** A management API token (one of the API's tokens, with the scope the commands need). */
  apiToken?: string;
}

export interface ManagementTarget {
  /** `--api-url`: wins over TRIBUTARY_API_URL and the context. */
  url?: string;
  /** `--api-token`: wins over TRIBUTARY_API_TOKEN and the context's `apiToken`. */
  token?: string;
}

export interface ManagementEndpoint {
  baseUrl: string;
  token: string | undefined;
}

/**
 * The API's address: `--api-url`, else TRIBUTARY_API_URL, else the context's `apiUrl`, else its
 * `aggregatorUrl` (the aggregator serves it). The token: `--api-token`, else TRIBUTARY_API_TOKEN, else
 * the context's `apiToken`. The context file is read only when the address is not given.
 */
export function managementEndpoint(
  target: ManagementTarget,
  contextFile: () => string,
  env: NodeJS.ProcessEnv = process.env,
): ManagementEndpoint {
  const given = target.url ?? (env.TRIBUTARY_API_URL?.trim() || undefined);
  const envToken = env.TRIBUTARY_API_TOKEN?.trim() || undefined;
  if (given) return { baseUrl: given.replace(/\/+$/, ""), token: target.token ?? envToken };
  let context: ManagementContext;
  try {
    context = readContext(contextFile()) as ManagementContext;
  } catch (err) {
    if (err instanceof OperatorError && err.code === "context_missing")
      throw new OperatorError(
        "context_missing",
        `${err.message}; or name the management API with --api-url URL (or TRIBUTARY_API_URL)`,
        { cause: err },
      );
    throw err;
  }
  return {
    baseUrl: (context.apiUrl ?? context.aggregatorUrl).replace(/\/+$/, ""),
    token: target.token ?? envToken ?? context.apiToken,
  };
}

/** A refusal or failure the API answered with (exit 1); 400s are usage errors (OperatorError bad_argument, exit 2). */
export class ManagementApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ManagementApiError";
  }
}

/** What to do about each refusal, after the API's own message. */
const HINTS: Record<string, string> = {
  unauthorized: "give one of the API's tokens: TRIBUTARY_API_TOKEN (or --api-token, or apiToken in the context file)",
  forbidden_scope:
    "use a token with the scope named (the API's tokens[].scope: read < write < admin) in TRIBUTARY_API_TOKEN or --api-token",
  already_exists: "update it instead, or pick another id",
  revision_conflict: "it changed meanwhile: read it again and repeat the command",
  control_unavailable: "the API is not connected to the hub: retry in a few seconds",
  rate_limited: "too many requests: retry in a minute",
};

interface ErrorBody {
  code: string | undefined;
  message: string;
}

function errorOf(text: string): ErrorBody {
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown; message?: unknown };
    if (body.error !== null && typeof body.error === "object") {
      const e = body.error as { code?: unknown; message?: unknown };
      return { code: typeof e.code === "string" ? e.code : undefined, message: String(e.message ?? text) };
    }
    if (typeof body.message === "string") return { code: undefined, message: body.message };
  } catch {
    // not JSON: the text as it came
  }
  return { code: undefined, message: text };
}

export interface ApiAnswer<T> {
  status: number;
  data: T;
  /** The record's revision from its ETag, when the API sent one. */
  revision: number | undefined;
}

/** JSON requests to the management API with the endpoint's token. */
export class ManagementApi {
  constructor(
    readonly endpoint: ManagementEndpoint,
    /** Who the changes are recorded as made by: `apply` for `config apply` (the records' managedBy). */
    readonly writer: "api" | "apply" = "api",
  ) {}

  /** The same endpoint, its changes recorded as the declarative config's (`managedBy: apply`). */
  asApply(): ManagementApi {
    return new ManagementApi(this.endpoint, "apply");
  }

  async request<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    opts: { body?: unknown; ifMatch?: number } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (this.endpoint.token) headers.authorization = `Bearer ${this.endpoint.token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.ifMatch !== undefined) headers["if-match"] = `"${opts.ifMatch}"`;
    if (this.writer === "apply") headers["tributary-managed-by"] = "apply";
    let res: Response;
    try {
      res = await fetch(`${this.endpoint.baseUrl}${path}`, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new OperatorError(
        "unreachable",
        `the management API at ${this.endpoint.baseUrl} did not answer: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const text = await res.text();
    if (!res.ok) throw this.failure(method, path, res.status, errorOf(text));
    const etag = res.headers.get("etag");
    const revision = etag ? Number(etag.replace(/^W\//, "").replace(/"/g, "")) : undefined;
    return {
      status: res.status,
      data: (text ? JSON.parse(text) : undefined) as T,
      revision: Number.isSafeInteger(revision) ? revision : undefined,
    };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>("GET", path)).data;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await this.request<T>("POST", path, { body })).data;
  }

  async delete(path: string): Promise<void> {
    await this.request("DELETE", path);
  }

  private failure(method: string, path: string, status: number, error: ErrorBody): Error {
    const where = this.endpoint.baseUrl;
    if (status === 401 && !this.endpoint.token)
      return new ManagementApiError(
        "unauthorized",
        401,
        `the management API at ${where} wants a token (401): ${HINTS.unauthorized}`,
      );
    if (status === 404 && error.code === undefined)
      return new OperatorError(
        "not_found",
        `${where} does not serve ${method} ${path.split("?")[0]}: is it the aggregator with its management API on (control.enabled), at a version that has this route?`,
      );
    if (status === 404) return new OperatorError("not_found", error.message);
    if (status === 400)
      return new OperatorError("bad_argument", `${error.message}${error.code ? ` (${error.code})` : ""}`);
    const code = error.code ?? `http_${status}`;
    const hint = HINTS[code] ?? (status >= 500 ? "the API's log has the cause" : undefined);
    const what = status >= 500 ? `the management API failed ${method} ${path.split("?")[0]}` : "refused";
    return new ManagementApiError(
      code,
      status,
      `${what}: ${error.message} (${status} ${code})${hint ? ` — ${hint}` : ""}`,
    );
  }
}

import swagger from "@fastify/swagger";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import Fastify, { type FastifyInstance } from "fastify";
import { expect } from "vitest";
import { CodedError } from "@tributary/errors";
import { httpServerOptions } from "@tributary/runtime";
import { registerControlRoutes, type Scope } from "../src/index.js";

/** A token of the test host: its scope, and the sources it reads (absent: every source). */
export interface TestToken {
  scope: Scope;
  sources?: readonly string[];
}

export const DEFAULT_TOKENS: Record<string, TestToken> = {
  reader: { scope: "read" },
  writer: { scope: "write" },
  admin: { scope: "admin" },
};

/**
 * The management routes on a small host that does what the query API's plugin does for them: a
 * principal with a scope (and sources) per token, coded errors rendered, the OpenAPI document
 * collected; every route added is listed in `routes`.
 */
export async function host(
  deps: Parameters<typeof registerControlRoutes>[1],
  logs: string[],
  tokens: Record<string, TestToken> = DEFAULT_TOKENS,
): Promise<{ app: FastifyInstance; routes: Array<{ url: string; ownAuth: boolean }> }> {
  const routes: Array<{ url: string; ownAuth: boolean }> = [];
  // The hosts' own server options (httpServerOptions): their schema settings decide what a body may hold.
  const app = Fastify({
    ...httpServerOptions(),
    logger: { level: "debug", stream: { write: (line: string) => void logs.push(line) } },
  });
  await app.register(swagger, { openapi: { info: { title: "test", version: "1" } } });
  app.addHook("onRequest", async (request) => {
    const token = request.headers.authorization?.replace(/^Bearer /, "") ?? "";
    const known = tokens[token];
    if (known) (request as { principal?: unknown }).principal = { id: token, ...known };
  });
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, _request, reply) => {
    if (err instanceof CodedError && err.status)
      return reply.code(err.status).send({ error: { code: err.code, message: err.message, field: err.field } });
    if (err.validation) {
      const params = (err.validation as Array<{ params?: { additionalProperty?: string } }>)[0]?.params;
      const field = params?.additionalProperty;
      return reply.code(400).send({ error: { code: "invalid_parameter", message: err.message, field } });
    }
    return reply.code(500).send({ error: { code: "internal", message: String(err) } });
  });
  app.addHook("onRoute", (route) => void routes.push({ url: route.url, ownAuth: route.config?.ownAuth === true }));
  registerControlRoutes(app, deps);
  await app.ready();
  return { app, routes };
}

/** A request with a bearer token: status, the parsed JSON body, the raw text. */
export type Caller = (
  token: string,
  method: string,
  url: string,
  payload?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: Record<string, any> | undefined; raw: string }>;

export function callerOf(app: FastifyInstance): Caller {
  return async (token, method, url, payload, headers = {}) => {
    const res = await app.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as Record<string, any>) : undefined,
      raw: res.body,
    };
  };
}

/** Checks an answer against its route's response schema in the OpenAPI document. */
export type Conforms = (method: string, route: string, status: number, body: unknown) => void;

const ajv = addFormatsModule.default(new Ajv({ strict: false }));

export function conformsOf(app: FastifyInstance): Conforms {
  return (method, route, status, body) => {
    const doc = app.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, any> }>>;
    };
    const op = doc.paths[route]?.[method.toLowerCase()];
    expect(op, `${method} ${route} is in the OpenAPI document`).toBeDefined();
    const schema = op!.responses[String(status)]?.content?.["application/json"]?.schema;
    if (schema) expect(ajv.validate(schema, body), JSON.stringify(ajv.errors)).toBe(true);
  };
}

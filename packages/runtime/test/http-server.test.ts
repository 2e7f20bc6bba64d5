import { connect } from "node:net";
import Fastify, { type FastifyReply } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import {
  guardRoutes,
  HTTP_SERVER_LIMITS,
  httpServerOptions,
  isLoopbackAddress,
  isLoopbackHost,
  limitConnections,
  OWN_AUTH,
  type HttpServerLimits,
} from "../src/index.js";

const refuse = async (_request: unknown, reply: FastifyReply) => reply.code(401).send({ error: "unauthorized" });

describe("isLoopbackAddress and isLoopbackHost", () => {
  it("a peer is local only as exactly 127.0.0.1 or ::1 (or 127.0.0.1 mapped into IPv6)", () => {
    for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(isLoopbackAddress(address)).toBe(true);
    // A mesh sidecar's inbound source, the rest of 127/8, look-alikes and nothing.
    for (const address of ["127.0.0.6", "127.1.2.3", "::ffff:127.0.0.6", "10.0.0.5", "::2", "0.0.0.0", "", undefined])
      expect(isLoopbackAddress(address)).toBe(false);
  });

  it("a listen address is local for 127.0.0.1, ::1 and localhost only", () => {
    for (const host of ["127.0.0.1", "::1", "localhost"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "127.0.0.6"]) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe("httpServerOptions: schemas refuse what they do not allow", () => {
  it("a body field a closed schema does not name is refused (400, the field named), not dropped", async () => {
    const app = Fastify(httpServerOptions());
    const seen: unknown[] = [];
    app.post(
      "/things",
      {
        schema: {
          body: {
            type: "object",
            properties: { paused: { type: "boolean" }, reason: { type: "string" } },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        seen.push(request.body);
        return { ok: true };
      },
    );
    const misspelt = await app.inject({ method: "POST", url: "/things", payload: { paused: true, reson: "typo" } });
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json()).toMatchObject({
      code: "FST_ERR_VALIDATION",
      message: "body must NOT have additional properties",
    });
    expect(seen).toEqual([]);
    const good = await app.inject({ method: "POST", url: "/things", payload: { paused: true, reason: "ok" } });
    expect(good.statusCode).toBe(200);
    expect(seen).toEqual([{ paused: true, reason: "ok" }]);
    await app.close();
  });
});

describe("guardRoutes", () => {
  const build = () => {
    const app = Fastify();
    guardRoutes(app, { guard: refuse, open: ["/healthz"] });
    return app;
  };

  it("guards every route added after it, in plugins too, HEAD included, except the open paths and OWN_AUTH routes", async () => {
    const app = build();
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/v1/stats", async () => ({ rows: 1 }));
    void app.register(async (child) => {
      child.get("/v1/later", { onRequest: async () => undefined }, async () => ({ added: "later" }));
      child.get("/v1/api", { config: { ...OWN_AUTH } }, async () => ({ own: "auth" }));
    });
    for (const [method, url, status] of [
      ["GET", "/healthz", 200],
      ["GET", "/v1/stats", 401],
      ["HEAD", "/v1/stats", 401],
      ["GET", "/v1/later", 401],
      ["GET", "/v1/api", 200],
    ] as const)
      expect([method, url, (await app.inject({ method, url })).statusCode]).toEqual([method, url, status]);
    await app.close();
  });

  it("the guard runs before the body is read: a refused POST with a broken body is 401, not 400", async () => {
    const app = build();
    app.post("/v1/replay", { schema: { body: { type: "object", required: ["from"] } } }, async () => ({}));
    const res = await app.inject({
      method: "POST",
      url: "/v1/replay",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(res.statusCode).toBe(401);
    await app.close();
  });
});

describe("httpServerOptions", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  const fast: HttpServerLimits = {
    ...HTTP_SERVER_LIMITS,
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    timeoutCheckIntervalMs: 100,
    maxConnections: 2,
  };

  async function listen(): Promise<number> {
    const app = Fastify(httpServerOptions(fast));
    limitConnections(app, fast);
    app.post("/v1/keys", async () => ({ ok: true }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    close = () => app.close();
    return (app.server.address() as { port: number }).port;
  }

  /** Sends `text` and resolves with what the server answered until it closed the connection (or "open" after waitMs). */
  function send(port: number, text: string, waitMs: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(text));
      let answer = "";
      socket.on("data", (chunk) => (answer += chunk.toString()));
      socket.on("error", () => undefined);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve("open");
      }, waitMs);
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(answer || "closed");
      });
    });
  }

  it("the defaults bound every phase of a request and the connections", () => {
    const options = httpServerOptions();
    expect(options.requestTimeout).toBe(30_000);
    expect(options.http).toMatchObject({ headersTimeout: 10_000 });
    expect(options.connectionTimeout).toBeGreaterThan(options.requestTimeout);
    expect(options.keepAliveTimeout).toBeGreaterThan(0);
  });

  it("a body trickled in is cut off at the request timeout with 408", async () => {
    const port = await listen();
    const answer = await send(
      port,
      "POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
      5_000,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("connections beyond maxConnections are refused at accept", async () => {
    const port = await listen();
    const held = [connect(port, "127.0.0.1"), connect(port, "127.0.0.1")];
    await Promise.all(held.map((socket) => new Promise((resolve) => socket.once("connect", resolve))));
    try {
      expect(await send(port, "GET /v1/keys HTTP/1.1\r\nHost: x\r\n\r\n", 250)).toBe("closed");
    } finally {
      for (const socket of held) socket.destroy();
    }
  });

  it("headers never finished are cut off at the headers timeout", async () => {
    const port = await listen();
    expect(await send(port, "GET /v1/keys HTTP/1.1\r\nHost: x\r\n", 5_000)).not.toBe("open");
  });
});

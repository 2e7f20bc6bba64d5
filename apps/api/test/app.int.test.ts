import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HTTP_SERVER_LIMITS } from "@tributary/runtime";
import { DuckDbSink } from "@tributary/warehouse";
import { buildApiApp } from "../src/app.js";

const TOKEN = "acme-token-0123456789abcdef";

/** Sends `text` on a raw connection; resolves with what came back before the server closed it, or "open". */
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

describe("standalone API app (in process, DuckDB as the warehouse)", () => {
  let dir: string;
  let sink: DuckDbSink;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tributary-api-app-"));
    sink = await DuckDbSink.open(join(dir, "w.duckdb"));
    await sink.migrate();
    app = buildApiApp({
      warehouse: sink,
      tokens: [{ id: "acme", token: TOKEN, sources: ["acme"] }],
      limits: { ...HTTP_SERVER_LIMITS, headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckIntervalMs: 100 },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("M3 - headers sent slowly are cut off at the headers timeout, a request whose body never ends at the request timeout", async () => {
    expect(await send(port, "GET /v1/events HTTP/1.1\r\nHost: x\r\n", 5_000)).not.toBe("open");
    // The API's routes are GETs: Fastify answers without reading the body, and the connection,
    // still owed 99,999 bytes, is closed at the request timeout instead of being held open.
    const answer = await send(
      port,
      `GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 100000\r\n\r\n{`,
      5_000,
    );
    expect(answer).not.toBe("open");
  });

  it("M3 - the server caps its connections", () => {
    expect(app.server.maxConnections).toBe(HTTP_SERVER_LIMITS.maxConnections);
  });

  it("probes are open, the API needs its token", async () => {
    expect((await app.inject({ url: "/healthz", remoteAddress: "10.0.0.5" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/readyz", remoteAddress: "10.0.0.5" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/v1/events", remoteAddress: "10.0.0.5" })).statusCode).toBe(401);
    expect(
      (
        await app.inject({
          url: "/v1/events",
          remoteAddress: "10.0.0.5",
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).statusCode,
    ).toBe(200);
  });
});

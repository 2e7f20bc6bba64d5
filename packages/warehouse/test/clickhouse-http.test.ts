import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouseHttp } from "../src/clickhouse-http.js";
import { WarehouseError } from "../src/index.js";

const MiB = 1024 * 1024;

/**
 * A loopback HTTP server that answers the way ClickHouse does to a read: 200 with the result, gzipped
 * when asked. What it answers is chosen per path query (`?size=`, `?bomb=`).
 */
function startServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? "/", "http://x");
    if (url.searchParams.has("bomb")) {
      // 64 MiB of zeros gzip to ~64 KiB.
      res.writeHead(200, { "content-encoding": "gzip" });
      res.end(gzipSync(Buffer.alloc(Number(url.searchParams.get("bomb")) * MiB)));
      return;
    }
    const body = Buffer.alloc(Number(url.searchParams.get("size") ?? 10), 0x61);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` }),
    ),
  );
}

describe("ClickHouse HTTP client - answer size cap", () => {
  let server: Server;
  let http: ClickHouseHttp;

  beforeAll(async () => {
    const started = await startServer();
    server = started.server;
    http = new ClickHouseHttp({
      origin: started.origin,
      compression: true,
      timeoutMs: 10_000,
      connections: 2,
      label: "test",
      maxAnswerBytes: 4 * MiB,
    });
  });
  afterAll(async () => {
    await http?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  const read = (settings: Record<string, number>) => http.query("SELECT 1", { kind: "read", settings });

  it("an answer within the cap is read whole", async () => {
    expect(await read({ size: 3 * MiB })).toHaveLength(3 * MiB);
  });

  it("M7 - an answer larger than the cap is refused (warehouse_unavailable), not buffered whole", async () => {
    const err = await read({ size: 16 * MiB }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err).toMatchObject({ code: "warehouse_unavailable", details: { limit: "answer_bytes" } });
  });

  it("M7 - a gzip answer that inflates beyond the cap (a few KiB to 64 MiB) is refused", async () => {
    const err = await read({ bomb: 64 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect(err).toMatchObject({ code: "warehouse_unavailable", details: { limit: "answer_bytes" } });
    // The connection pool is still good afterwards.
    expect(await read({ size: 10 })).toBe("a".repeat(10));
  });
});

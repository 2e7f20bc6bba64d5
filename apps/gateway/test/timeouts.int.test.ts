import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { sampleEvent, signWebhook, sleep } from "@tributary/testkit";
import { resolveGatewayConfig } from "../src/config.js";
import { SECRET, startGateway } from "./helpers.js";

/**
 * A sender that sends its headers, then its body one byte every `intervalMs`, forever. Resolves
 * with the status the server answered (or "closed" without one) and how long it held on.
 */
function slowSender(url: string, intervalMs: number, giveUpMs: number): Promise<{ status: string; ms: number }> {
  const { hostname, port } = new URL(url);
  const body = sampleEvent();
  const headers = { ...signWebhook({ secret: SECRET, body }), "content-length": String(body.length) };
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < body.length) socket.write(body[sent++]!);
    }, intervalMs);
    const done = (status: string) => {
      clearInterval(drip);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ status, ms: Date.now() - started });
    };
    const giveUp = setTimeout(() => done("still open"), giveUpMs);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) done(status[1]!);
    });
    socket.on("close", () => done("closed"));
    socket.on("error", () => done("closed"));
    const head = Object.entries({ host: `${hostname}:${port}`, ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.write(`POST /v1/sources/demo/events HTTP/1.1\r\n${head}\r\n`);
  });
}

describe("gateway server timeouts", () => {
  it("M3 - a body trickled in is cut off at requestTimeoutMs while a real sender keeps getting 202s", async () => {
    const gw = await startGateway({ http: { requestTimeoutMs: 1000, headersTimeoutMs: 1000 } });
    try {
      const slow = Array.from({ length: 20 }, () => slowSender(gw.url, 200, 6000));
      const answers: number[] = [];
      let stop = false;
      const sender = (async () => {
        while (!stop) {
          const body = sampleEvent();
          const res = await fetch(`${gw.url}/v1/sources/demo/events`, {
            method: "POST",
            headers: signWebhook({ secret: SECRET, body }),
            body,
          });
          answers.push(res.status);
          await res.arrayBuffer();
          await sleep(50);
        }
      })();
      const cut = await Promise.all(slow);
      stop = true;
      await sender;
      // Every trickling sender was answered 408 (or dropped) after about a second, not left open.
      for (const { status, ms } of cut) {
        expect(["408", "closed"]).toContain(status);
        expect(ms).toBeLessThan(4000);
      }
      expect(answers.length).toBeGreaterThan(5);
      expect(answers.every((s) => s === 202)).toBe(true);
    } finally {
      await gw.close();
    }
  });

  it("M3 - the server's timeouts have defaults (Fastify's own leave a request unbounded) and are checked", async () => {
    const base = {
      region: "us",
      sources: { demo: { scheme: { type: "webhook-hmac-sha256" }, secrets: [{ id: "k", env: "S" }] } },
    };
    const config = resolveGatewayConfig(base, { S: SECRET });
    expect(config.http).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
      connectionTimeoutMs: 120_000,
      maxConnections: 10_000,
    });
    const gw = await startGateway();
    try {
      const server = gw.app.server;
      expect(server.requestTimeout).toBe(30_000);
      expect(server.headersTimeout).toBe(10_000);
      expect(server.keepAliveTimeout).toBe(72_000);
      expect(server.timeout).toBe(120_000);
      expect(server.maxConnections).toBe(10_000);
    } finally {
      await gw.close();
    }
    // Node refuses a headers timeout longer than the request timeout; a connection must outlast keep-alive.
    expect(() => resolveGatewayConfig({ ...base, http: { headersTimeoutMs: 40_000 } }, { S: SECRET })).toThrow(
      expect.objectContaining({ field: "http.headersTimeoutMs" }),
    );
    expect(() => resolveGatewayConfig({ ...base, http: { connectionTimeoutMs: 60_000 } }, { S: SECRET })).toThrow(
      expect.objectContaining({ field: "http.connectionTimeoutMs" }),
    );
  });
});

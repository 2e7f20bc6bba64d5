import { afterEach, describe, expect, it } from "vitest";
import { connect } from "net";
import { startNatsServer, type NatsServer } from "../src/index.js";

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("nats-server", () => {
  let servers: NatsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.cleanup()));
    servers = [];
  });

  it("nats-server - starts on a free loopback port and answers healthz with JetStream", async () => {
    const server = await startNatsServer({ domain: "us" });
    servers.push(server);
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://127.0.0.1:${server.ports.monitoring}/jsz`);
    const jsz = (await res.json()) as { config?: { domain?: string } };
    expect(jsz.config?.domain).toBe("us");
  });

  it("nats-server - two servers get different ports", async () => {
    const [a, b] = await Promise.all([startNatsServer(), startNatsServer()]);
    servers.push(a, b);
    expect(a.ports.client).not.toBe(b.ports.client);
  });

  it("nats-server - kill stops it hard and restart brings it back on the same port", async () => {
    const server = await startNatsServer();
    servers.push(server);
    const port = server.ports.client;
    await server.kill();
    expect(await canConnect(port)).toBe(false);
    await server.restart();
    expect(await canConnect(port)).toBe(true);
  });

  it("nats-server - leafnode port -1 is read back and pinned across restarts", async () => {
    const server = await startNatsServer({ domain: "hub", extraConfig: "leafnodes { host: 127.0.0.1, port: -1 }" });
    servers.push(server);
    expect(server.ports.leafnode).toBeGreaterThan(0);
    const leaf = server.ports.leafnode!;
    await server.restart();
    expect(await canConnect(leaf)).toBe(true);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, waitFor, type NatsServer } from "@tributary/testkit";
import { connectNats, gatewayPermissions, inboxOf } from "../src/index.js";

describe("connectNats", () => {
  const conns: NatsConnection[] = [];
  let server: NatsServer | undefined;
  afterAll(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await server?.cleanup();
  });

  it("L12 - the clients of a restarted server come back spread over time, not all in the same instant", async () => {
    server = await startNatsServer({ jetstream: false });
    const reconnectedAt: number[] = [];
    for (let i = 0; i < 12; i++) {
      const nc = await connectNats({ servers: [server.url], name: `client-${i}` });
      conns.push(nc);
      void (async () => {
        for await (const s of nc.status()) if (s.type === "reconnect") reconnectedAt.push(Date.now());
      })();
    }
    await server.stop();
    await new Promise((r) => setTimeout(r, 2_000)); // every client retries on its own rhythm meanwhile
    await server.restart();
    await waitFor("every client reconnected", async () => (reconnectedAt.length === 12 ? true : undefined), 15_000, 20);
    const spread = Math.max(...reconnectedAt) - Math.min(...reconnectedAt);
    console.log(`12 clients reconnected over ${spread} ms after the restart`);
    // A fixed 250 ms wait plus nats.js's 100 ms default jitter brings them all back within ~350 ms.
    expect(spread).toBeGreaterThan(400);
  }, 30_000);

  it("M8 - a reply subscribed to by hand (the gateway's pipelined PubAcks) comes under the user's own inbox, the only one it may read", async () => {
    const perms = gatewayPermissions("us");
    const list = (items: string[]) => `[${items.map((i) => JSON.stringify(i)).join(", ")}]`;
    const secured = await startNatsServer({
      jetstream: false,
      extraConfig: `authorization { users: [
        { user: "gateway-us", password: "g", permissions: { publish: { allow: ${list([...perms.publish, "echo"])} }, subscribe: { allow: ${list(perms.subscribe)} } } },
        { user: "echo", password: "e" }
      ] }`,
    });
    try {
      const nc = await connectNats({ servers: [secured.url], name: "gw", user: "gateway-us", pass: "g" });
      const echo = await connectNats({ servers: [secured.url], name: "echo", user: "echo", pass: "e" });
      conns.push(nc, echo);
      echo.subscribe("echo", {
        callback: (_err, msg) => {
          msg.respond("pong");
        },
      });
      const inbox = inboxOf(nc);
      expect(inbox.startsWith("_INBOX_gateway-us.")).toBe(true);
      const answered = new Promise<string>((resolve) =>
        nc.subscribe(inbox, { max: 1, callback: (_err, msg) => resolve(msg.string()) }),
      );
      await echo.flush();
      nc.publish("echo", "ping", { reply: inbox });
      expect(await answered).toBe("pong");
    } finally {
      await secured.cleanup();
    }
  });
});

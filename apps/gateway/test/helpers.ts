import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { connectNats } from "@tributary/streams";
import { startNatsServer, type NatsServer, type NatsServerOptions } from "@tributary/testkit";
import type { Telemetry } from "@tributary/telemetry";
import { buildGateway, resolveGatewayConfig, type Gateway } from "../src/app.js";
import { RegionalPublisher } from "../src/publisher.js";

export const SECRET = "test-secret-0123456789abcdef";
export const OLD_SECRET = "old-secret-0123456789abcdef!!";

/** The `demo` source every gateway under test has unless `sources` is overridden. */
export const DEMO_SOURCE = {
  scheme: { type: "webhook-hmac-sha256" },
  secrets: [
    { id: "current", env: "GW_TEST_SECRET" },
    { id: "previous", env: "GW_TEST_OLD_SECRET" },
  ],
  maxBodyBytes: 4096,
  batch: true,
};

export interface GatewayUnderTest {
  nats: NatsServer;
  /** The ingest server, and `url` where it listens. */
  app: FastifyInstance;
  url: string;
  /** Where the operations server (/metrics, /v1/stats, detailed probes) listens. */
  opsUrl: string;
  publisher: RegionalPublisher;
  /** A separate connection for assertions on the stream. */
  observer: NatsConnection;
  streamMessages(): Promise<number>;
  close(): Promise<void>;
}

export async function startGateway(
  overrides: Record<string, unknown> = {},
  now?: () => number,
  natsOptions: NatsServerOptions = {},
  /** Runs against the nats-server before the gateway connects (e.g. provisions the stream itself). */
  prepare?: (nats: NatsServer) => Promise<void>,
  telemetry?: Telemetry,
): Promise<GatewayUnderTest> {
  const nats = await startNatsServer({ domain: "us", ...natsOptions });
  let publisher: RegionalPublisher | undefined;
  let gateway: Gateway | undefined;
  try {
    await prepare?.(nats);
    const config = resolveGatewayConfig(
      {
        region: "us",
        port: 0,
        opsPort: 0,
        logLevel: "silent",
        nats: { servers: [nats.url], publishTimeoutMs: 1000 },
        stream: { maxBytes: 64 * 1024 * 1024 },
        sources: { demo: DEMO_SOURCE },
        ...overrides,
      },
      { GW_TEST_SECRET: SECRET, GW_TEST_OLD_SECRET: OLD_SECRET },
    );
    gateway = buildGateway({
      config,
      stream: () => publisher,
      ...(now ? { now } : {}),
      ...(telemetry ? { telemetry } : {}),
      logger: false,
    });
    publisher = new RegionalPublisher(config, gateway.app.log);
    await publisher.start();
  } catch (err) {
    // A gateway that does not start leaves nothing running behind it.
    await gateway?.app.close();
    await gateway?.ops.close();
    await publisher?.close();
    await nats.cleanup();
    throw err;
  }
  const { app, ops } = gateway;
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const opsAddress = await ops.listen({ host: "127.0.0.1", port: 0 });
  const observer = await connectNats({ servers: [nats.url], name: "observer" });
  return {
    nats,
    app,
    url: address,
    opsUrl: opsAddress,
    publisher,
    observer,
    async streamMessages() {
      const jsm = await jetstreamManager(observer);
      return (await jsm.streams.info("EVENTS_US")).state.messages;
    },
    async close() {
      await app.close();
      await publisher.close();
      await ops.close();
      await observer.close();
      await nats.cleanup();
    },
  };
}

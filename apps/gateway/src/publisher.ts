import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectNats,
  ensureStream,
  publishEvent,
  PublishError,
  regionalStreamConfig,
  type EventMessage,
  type PublishReceipt,
} from "@tributary/streams";
import type { FastifyBaseLogger } from "fastify";
import type { GatewayConfig } from "./config.js";

/**
 * The gateway's link to its regional stream. The HTTP server starts before NATS answers; until the
 * first connect (and whenever the connection is down) publishes fail fast as buffer_unavailable
 * and /readyz says not ready, so a load balancer moves traffic away.
 */
export class RegionalPublisher {
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #connected = false;
  #closed = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Connects (retrying until it succeeds or close() is called) and ensures the stream. */
  async start(): Promise<void> {
    const { nats, stream, region } = this.config;
    const nc = await connectNats({
      servers: nats.servers,
      name: `tributary-gateway-${region}`,
      waitOnFirstConnect: true,
      ...(nats.user !== undefined ? { user: nats.user, pass: nats.pass ?? "" } : {}),
    });
    if (this.#closed) {
      await nc.close();
      return;
    }
    this.#nc = nc;
    // checkAPI: false skips the account-info request, which a least-privilege gateway may not make.
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const wanted = regionalStreamConfig({
      region,
      maxBytes: stream.maxBytes,
      maxAgeMs: stream.maxAgeSeconds * 1000,
      duplicateWindowMs: stream.duplicateWindowSeconds * 1000,
      replicas: stream.replicas,
    });
    if (stream.manage) {
      await ensureStream(jsm, wanted);
    } else {
      await this.#waitForStream(jsm, wanted.name);
    }
    this.#js = jetstream(nc);
    this.#connected = true;
    this.log.info({ servers: nats.servers }, "connected to the regional NATS");
    void this.#watch(nc);
  }

  /** When operators provision the stream, wait (not ready) until it exists. */
  async #waitForStream(jsm: JetStreamManager, name: string): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        await jsm.streams.info(name);
        return;
      } catch (err) {
        if (attempt % 10 === 0) this.log.warn({ err, stream: name }, "regional stream not available yet; not ready until it is");
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.log.warn("regional NATS disconnected; answering 503 until it is back");
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.log.info("regional NATS reconnected");
      }
    }
  }

  isReady = (): boolean => this.#connected && !this.#closed;

  publish = (msg: EventMessage): Promise<PublishReceipt> => {
    if (!this.#js || !this.#connected) {
      return Promise.reject(new PublishError("buffer_unavailable", "not connected to the regional NATS"));
    }
    return publishEvent(this.#js, msg, this.config.nats.publishTimeoutMs);
  };

  /** Flushes what is in flight and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#nc && !this.#nc.isClosed()) await this.#nc.drain();
  }
}

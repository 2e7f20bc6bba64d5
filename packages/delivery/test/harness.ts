import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryConsumerConfig,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  DELIVERY_REPLAY_STREAM,
  ensureConsumer,
  ensureStream,
  eventSubject,
  ENRICHED_STREAM,
  enrichedStreamConfig,
  publishEvent,
} from "@tributary/streams";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { standardWebhooksSigningKey } from "@tributary/verify";
import { validateConfig } from "@tributary/config";
import { Deliverer, DestinationSchema, type DelivererOptions, type DestinationConfig } from "../src/index.js";

export const silentLog = { info() {}, warn() {}, error() {} };
export const SECRET = "whsec_" + Buffer.from("delivery-test-secret-000000001").toString("base64");

export interface Received {
  id: string;
  attempt: number;
  at: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Behaviour = (
  req: Received,
  nth: number,
) => { status?: number; headers?: Record<string, string>; body?: string; hang?: boolean; delayMs?: number } | undefined;

/** A real HTTP destination on loopback that records every request and answers as told. */
export class Destination {
  readonly received: Received[] = [];
  behaviour: Behaviour = () => undefined;
  readonly #perId = new Map<string, number>();
  private constructor(
    readonly app: FastifyInstance,
    readonly url: string,
  ) {}

  /** On a free loopback port, or on `port` (a destination coming back where it was). */
  static async start(behaviour?: Behaviour, port = 0): Promise<Destination> {
    const app = Fastify({ logger: false, forceCloseConnections: true });
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    let dest: Destination | undefined;
    app.post("/hook", async (request, reply) => {
      const id = String(request.headers["webhook-id"] ?? "");
      const nth = (dest!.#perId.get(id) ?? 0) + 1;
      dest!.#perId.set(id, nth);
      const rec: Received = {
        id,
        attempt: Number(request.headers["tributary-attempt"] ?? 0),
        at: Date.now(),
        body: String(request.body),
        headers: request.headers,
      };
      dest!.received.push(rec);
      const answer = dest!.behaviour(rec, nth) ?? {};
      if (answer.hang) return new Promise(() => {}); // never answers; the client's timeout ends it
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      for (const [k, v] of Object.entries(answer.headers ?? {})) reply.header(k, v);
      return reply.code(answer.status ?? 200).send(answer.body ?? "ok");
    });
    const address = await app.listen({ host: "127.0.0.1", port });
    dest = new Destination(app, `${address}/hook`);
    if (behaviour) dest.behaviour = behaviour;
    return dest;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  ids(): Set<string> {
    return new Set(this.received.map((r) => r.id));
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/** A hub with EVENTS (taking `events.>` directly, standing in for the sourced regions) and the delivery streams. */
export class Hub {
  readonly #running: Array<{ deliverer: Deliverer; done: Promise<void>; nc: NatsConnection }> = [];
  private constructor(
    readonly dir: string,
    readonly server: NatsServer,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {}

  static async start(): Promise<Hub> {
    const dir = mkdtempSync(join(tmpdir(), "tributary-delivery-"));
    const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
    const nc = await connectNats({ servers: [server.url], name: "delivery-test" });
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { ...enrichedStreamConfig(), subjects: ["enriched.>", "events.>"] });
    for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()])
      await ensureStream(jsm, config);
    return new Hub(dir, server, nc, jetstream(nc), jsm);
  }

  /** Publishes as the gateway does (key as Nats-Msg-Id, the Tributary-* headers), `count` events. */
  async publish(
    count: number,
    opts: {
      source?: string;
      type?: string;
      prefix?: string;
      body?: (i: number) => unknown;
      raw?: (i: number) => string | undefined;
      region?: string;
    } = {},
  ): Promise<string[]> {
    const source = opts.source ?? "demo";
    const type = opts.type ?? "link.clicked";
    const region = opts.region ?? "us";
    const keys: string[] = [];
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < count; i++) {
      const key = `${source}:${opts.prefix ?? "e"}-${i}`;
      const body = opts.body?.(i) ?? {
        event: type,
        timestamp: new Date().toISOString(),
        data: { link_id: `lnk_${i}` },
      };
      pending.push(
        publishEvent(this.js, {
          subject: eventSubject(region, source, type),
          body: new TextEncoder().encode(opts.raw?.(i) ?? JSON.stringify(body)),
          eventKey: key,
          source,
          region,
          eventType: type,
          receivedAt: new Date(),
        }),
      );
      keys.push(key);
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    return keys;
  }

  /** Validated config with test-sized timings (overridable). */
  static config(raw: Record<string, unknown>): DestinationConfig {
    return validateConfig(DestinationSchema, {
      timeoutMs: 2_000,
      start: "all",
      // The destinations here are on loopback, which the address policy refuses unless listed.
      allowPrivate: ["127.0.0.0/8"],
      signing: { secrets: [{ id: "k1", env: "UNUSED" }] },
      retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 400 },
      breaker: { failuresToOpen: 5, halfOpenAfterMs: 300, maxHalfOpenAfterMs: 1_000 },
      ...raw,
    });
  }

  /** Starts a deliverer on its own connection, with its durable consumer and its replay consumer. */
  async deliver(
    config: DestinationConfig,
    overrides: Partial<DelivererOptions> = {},
    beforeRun?: (deliverer: Deliverer) => void,
  ): Promise<{ deliverer: Deliverer; done: Promise<void> }> {
    const nc = await connectNats({ servers: [this.server.url], name: `delivery-${config.name}` });
    const jsm = await jetstreamManager(nc);
    const ackWaitMs = 10_000;
    await ensureConsumer(
      jsm,
      ENRICHED_STREAM,
      deliveryConsumerConfig({
        destination: config.name,
        filterSubjects: deliveryFilterSubjects(config.sources, config.types),
        maxAckPending: config.maxInFlight * 4,
        ackWaitMs,
        deliverPolicy: config.start,
      }),
    );
    await ensureConsumer(
      jsm,
      DELIVERY_REPLAY_STREAM,
      deliveryReplayConsumerConfig({ destination: config.name, maxAckPending: config.maxInFlight * 4, ackWaitMs }),
    );
    const js = jetstream(nc);
    const consumers = [
      await js.consumers.get(ENRICHED_STREAM, `delivery-${config.name}`),
      await js.consumers.get(DELIVERY_REPLAY_STREAM, `delivery-${config.name}-replay`),
    ];
    const deliverer = await Deliverer.create({
      config,
      js,
      consumers,
      signingKeys: config.signing.type === "none" ? [] : [standardWebhooksSigningKey(SECRET)],
      ackWaitMs,
      log: silentLog,
      ...overrides,
    });
    beforeRun?.(deliverer);
    const done = deliverer.run();
    this.#running.push({ deliverer, done, nc });
    return { deliverer, done };
  }

  async consumerState(destination: string): Promise<{ pending: number; ackPending: number; redelivered: number }> {
    const info = await this.jsm.consumers.info(ENRICHED_STREAM, `delivery-${destination}`);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
  }

  async streamCount(stream: string): Promise<number> {
    return (await this.jsm.streams.info(stream)).state.messages;
  }

  async close(): Promise<void> {
    for (const r of this.#running.splice(0)) {
      r.deliverer.stop();
      await r.done;
      await r.deliverer.close();
      await r.nc.drain();
    }
    await this.nc.close();
    await this.server.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsCredentials } from "@tributary/config";
import {
  connectNats,
  ensureStream,
  JetStreamPipeline,
  PublishError,
  regionalStreamConfig,
  type EventMessage,
  type PublishReceipt,
} from "@tributary/streams";
import type { RegionStreamState } from "@tributary/telemetry";
import type { FastifyBaseLogger } from "fastify";
import { FillTracker, type FillState, type StreamSample } from "./admission.js";
import type { GatewayConfig } from "./config.js";

import type { RegionalStream } from "./plugins/state.js";
import { checkRegionLimits } from "./region-limits.js";

/** Why the gateway is not ready, for /readyz. */
export type NotReadyReason =
  "starting" | "nats_disconnected" | "stream_info_stale" | "stream_nearly_full" | "stream_full" | "closed";

export interface Readiness {
  ready: boolean;
  reason?: NotReadyReason;
  /** The regional stream's fill level (bytes / max_bytes) at the last reading. */
  fill: number | null;
}

/** JetStream durations are nanoseconds. */
const NS_PER_MS = 1_000_000;

function sampleOf(info: StreamInfo, at: number): StreamSample {
  const firstTs = info.state.messages > 0 && info.state.first_ts ? Date.parse(info.state.first_ts) : Number.NaN;
  return {
    at,
    bytes: info.state.bytes,
    messages: info.state.messages,
    maxBytes: info.config.max_bytes,
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    firstTs: Number.isFinite(firstTs) ? firstTs : null,
    maxAgeMs: Math.floor((info.config.max_age ?? 0) / NS_PER_MS),
  };
}

/**
 * The gateway's link to its regional stream. The HTTP server starts before NATS answers; until the
 * first connect (and whenever the connection is down) publishes fail fast as buffer_unavailable
 * and /readyz says not ready, so a load balancer moves traffic away.
 *
 * Publishes go through a JetStreamPipeline (many in flight on one connection). The stream's fill
 * level is read every `admission.streamCheckIntervalMs`: /readyz turns false when it is nearly
 * full, and a full stream is refused before publishing, with a Retry-After from its drain rate.
 */
export class RegionalPublisher implements RegionalStream {
  #nc: NatsConnection | undefined;
  #jsm: JetStreamManager | undefined;
  #pipeline: JetStreamPipeline | undefined;
  #streamName = "";
  #connected = false;
  #closed = false;
  readonly #fill: FillTracker;
  #sampler: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly log: FastifyBaseLogger,
    /** Milliseconds since the epoch; tests move the clock. */
    private readonly now: () => number = Date.now,
  ) {
    const { admission } = config;
    this.#fill = new FillTracker({
      nearlyFullRatio: admission.nearlyFullRatio,
      staleAfterMs: Math.max(5_000, 5 * admission.streamCheckIntervalMs),
      minRetryAfterSeconds: config.retryAfterSeconds,
      maxRetryAfterSeconds: admission.maxRetryAfterSeconds,
    });
  }

  /** The regional NATS connection once start() has connected (the control bucket's mirror is read through it). */
  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  /** Connects (retrying until it succeeds or close() is called) and ensures the stream. */
  async start(): Promise<void> {
    const { nats, stream, region } = this.config;
    const nc = await connectNats({
      servers: nats.servers,
      name: `tributary-gateway-${region}`,
      waitOnFirstConnect: true,
      ...natsCredentials(nats),
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
    this.#streamName = wanted.name;
    this.#jsm = jsm;
    const info = stream.manage ? await ensureStream(jsm, wanted) : await this.#waitForStream(jsm, wanted.name);
    if (this.#closed || info === undefined) return;
    // A ConfigError (exit 78) when the region cannot hold what the sources accept.
    checkRegionLimits(this.config, {
      maxPayload: nc.info?.max_payload,
      maxMsgSize: info.config.max_msg_size,
      duplicateWindowNs: info.config.duplicate_window,
    });
    await this.#sample();
    this.#pipeline = new JetStreamPipeline(nc, {
      timeoutMs: nats.publishTimeoutMs,
      // Refuse the next ones before publishing, and read the fill level now rather than later.
      onFull: () => {
        this.#fill.markFull(this.now());
        void this.#sample();
      },
    });
    this.#connected = true;
    this.#sampler = setInterval(() => void this.#sample(), this.config.admission.streamCheckIntervalMs);
    this.#sampler.unref();
    this.log.info({ servers: nats.servers }, "connected to the regional NATS");
    void this.#watch(nc);
  }

  /** When operators provision the stream, wait (not ready) until it exists; undefined if closed meanwhile. */
  async #waitForStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        return await jsm.streams.info(name);
      } catch (err) {
        if (attempt % 10 === 0)
          this.log.warn({ err, stream: name }, "regional stream not available yet; not ready until it is");
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      }
    }
    return undefined;
  }

  /** Reads the stream's fill level; one reading at a time, failures only make the last one stale. */
  #sample(): Promise<void> {
    if (this.#sampling || !this.#jsm || this.#closed) return this.#sampling ?? Promise.resolve();
    const jsm = this.#jsm;
    const at = this.now();
    this.#sampling = jsm.streams
      .info(this.#streamName)
      .then((info) => this.#fill.update(sampleOf(info, at)))
      .catch((err: unknown) => {
        if (!this.#closed) this.log.debug({ err }, "could not read the regional stream's info");
      })
      .finally(() => {
        this.#sampling = undefined;
      });
    return this.#sampling;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        // PubAcks of the old connection cannot arrive on the next one: answer now, not at timeout.
        this.#pipeline?.failAll("the connection to the regional NATS dropped");
        this.log.warn("regional NATS disconnected; answering 503 until it is back");
      } else if (status.type === "reconnect") {
        this.#connected = true;
        void this.#sample();
        this.log.info("regional NATS reconnected");
      }
    }
  }

  readiness(): Readiness {
    const state: FillState = this.#fill.state(this.now());
    const fill = state.fill;
    if (this.#closed) return { ready: false, reason: "closed", fill };
    if (!this.#pipeline) return { ready: false, reason: "starting", fill };
    if (!this.#connected) return { ready: false, reason: "nats_disconnected", fill };
    if (!state.fresh) return { ready: false, reason: "stream_info_stale", fill };
    if (state.full) return { ready: false, reason: "stream_full", fill };
    if (state.nearlyFull) return { ready: false, reason: "stream_nearly_full", fill };
    return { ready: true, fill };
  }

  get full(): boolean {
    return this.#fill.full;
  }

  retryAfterSeconds(): number {
    return this.#fill.retryAfterSeconds(this.now());
  }

  async freshRetryAfterSeconds(waitMs = 1000): Promise<number> {
    const sampling = this.#sample();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sampling, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return this.retryAfterSeconds();
  }

  /** The regional stream's last reading and outage budget, for the metrics. */
  streamState(): RegionStreamState | undefined {
    const last = this.#fill.last;
    if (last === undefined) return undefined;
    return {
      bytes: last.bytes,
      maxBytes: last.maxBytes,
      messages: last.messages,
      lastSeq: last.lastSeq,
      outageBudgetSeconds: this.#fill.outageBudgetSeconds(),
    };
  }

  /** Events this process has published and not yet had answered. */
  get inFlight(): number {
    return this.#pipeline?.pending ?? 0;
  }

  publish = (msg: EventMessage): Promise<PublishReceipt> => {
    const pipeline = this.#pipeline;
    if (!pipeline || !this.#connected) {
      return Promise.reject(new PublishError("buffer_unavailable", "not connected to the regional NATS"));
    }
    return pipeline.publish(msg);
  };

  /** Waits for what is in flight to be answered, then drains and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sampler) clearInterval(this.#sampler);
    await this.#sampling;
    if (this.#pipeline) {
      await this.#pipeline.idle();
      this.#pipeline.close();
    }
    if (this.#nc && !this.#nc.isClosed()) await this.#nc.drain();
  }
}

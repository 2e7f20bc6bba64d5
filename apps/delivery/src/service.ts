import {
  jetstream,
  JetStreamApiError,
  jetstreamManager,
  type ConsumerUpdateConfig,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  Deliverer,
  type AttemptStartHook,
  type DeliveryLog,
  type DelivererOptions,
  type DestinationConfig,
} from "@tributary/delivery";
import {
  deliveriesStreamConfig,
  deliveryBacklog,
  deliveryConsumerConfig,
  deliveryConsumerName,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  DELIVERY_REPLAY_STREAM,
  ensureConsumer,
  ensureStream,
  ENRICHED_STREAM,
  retryWhileStreamMissing,
  type DeliveryBacklog,
} from "@tributary/streams";
import type { SigningKey } from "@tributary/verify";

export interface DeliveryServiceOptions {
  nc: NatsConnection;
  destinations: DestinationConfig[];
  signingKeys: Map<string, SigningKey[]>;
  ackWaitMs: number;
  manageStreams: boolean;
  log: DeliveryLog;
  onAttempt?: DelivererOptions["onAttempt"];
  onAttemptStart?: AttemptStartHook;
  onStateChange?: DelivererOptions["onStateChange"];
}

/** One destination's running deliverer: its config, and the promise its run() settles. */
interface Running {
  deliverer: Deliverer;
  config: DestinationConfig;
  running: Promise<void>;
}

/**
 * The running deliverers of one process, one per destination, and what the HTTP side needs.
 * Destinations come and go while it runs (the control bucket's subscriptions): `apply` starts or
 * replaces one, `remove` stops one and deletes its consumers, without touching the others.
 */
export class DeliveryService {
  readonly #running = new Map<string, Running>();
  private constructor(
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly opts: DeliveryServiceOptions,
  ) {}

  /** Each destination's deliverer and config (the stats and admin routes read it). */
  get deliverers(): ReadonlyMap<string, { deliverer: Deliverer; config: DestinationConfig }> {
    return this.#running;
  }

  /**
   * Creates (or updates) each destination's durable consumers and starts its deliverer. A
   * destination's consumer filters are reset to its config at every start (sources/types edits).
   */
  static async start(opts: DeliveryServiceOptions): Promise<DeliveryService> {
    const jsm = await jetstreamManager(opts.nc);
    const js = jetstream(opts.nc);
    if (opts.manageStreams)
      for (const config of [deliveryDlqStreamConfig(), deliveryReplayStreamConfig(), deliveriesStreamConfig()])
        await ensureStream(jsm, config);
    const service = new DeliveryService(js, jsm, opts);
    // Every consumer first, then the deliverers: a start that fails (a stream not provisioned yet)
    // leaves nothing running, so it can simply be tried again.
    for (const config of opts.destinations) await service.#ensureConsumers(config);
    for (const [i, config] of opts.destinations.entries())
      await service.#start(config, opts.signingKeys.get(config.name) ?? [], `destinations[${i}]`);
    return service;
  }

  /** The destination's consumers on EVENTS and DELIVERY_REPLAY, their filters set to its sources and types. */
  async #ensureConsumers(config: DestinationConfig): Promise<void> {
    const { jsm, opts } = this;
    // Bounded by the deliverer's request slots; a little above so acks in flight do not stall pulls.
    const maxAckPending = config.maxInFlight * 4;
    const main = deliveryConsumerConfig({
      destination: config.name,
      filterSubjects: deliveryFilterSubjects(config.sources, config.types),
      maxAckPending,
      ackWaitMs: opts.ackWaitMs,
      deliverPolicy: config.start,
    });
    await ensureConsumer(jsm, ENRICHED_STREAM, main);
    // ensureConsumer keeps a live consumer's filter; a destination's filter follows its config.
    // The one of the two fields not in use is sent as undefined, which drops it from the update.
    await jsm.consumers.update(ENRICHED_STREAM, main.durable_name, {
      filter_subject: main.filter_subject,
      filter_subjects: main.filter_subjects,
      max_ack_pending: maxAckPending,
    } as Partial<ConsumerUpdateConfig>);
    await ensureConsumer(
      jsm,
      DELIVERY_REPLAY_STREAM,
      deliveryReplayConsumerConfig({ destination: config.name, maxAckPending, ackWaitMs: opts.ackWaitMs }),
    );
  }

  async #start(
    config: DestinationConfig,
    signingKeys: SigningKey[],
    field: string,
    paused?: { reason: string },
  ): Promise<void> {
    const { js, opts } = this;
    const consumers = [
      await js.consumers.get(ENRICHED_STREAM, deliveryConsumerName(config.name)),
      await js.consumers.get(DELIVERY_REPLAY_STREAM, `${deliveryConsumerName(config.name)}-replay`),
    ];
    const deliverer = await Deliverer.create(
      {
        config,
        js,
        consumers,
        signingKeys,
        ackWaitMs: opts.ackWaitMs,
        log: opts.log,
        ...(opts.onAttempt ? { onAttempt: opts.onAttempt } : {}),
        ...(opts.onAttemptStart ? { onAttemptStart: opts.onAttemptStart } : {}),
        ...(opts.onStateChange ? { onStateChange: opts.onStateChange } : {}),
      },
      field,
    );
    // A stored pause holds from the first moment: nothing is pulled.
    if (paused) deliverer.pause(paused.reason);
    this.#running.set(config.name, { deliverer, config, running: deliverer.run() });
  }

  /**
   * Starts a destination, or replaces its deliverer with one on the new config: the old one stops
   * pulling and finishes what it holds first (events it did not settle are redelivered to the new
   * one). The consumer keeps its position; its filter follows the new sources and types.
   */
  async apply(config: DestinationConfig, signingKeys: SigningKey[], paused?: { reason: string }): Promise<void> {
    await this.#stopOne(config.name);
    await this.#ensureConsumers(config);
    await this.#start(config, signingKeys, `subscriptions.${config.name}`, paused);
  }

  /** Pauses or resumes a running destination in place (no new deliverer, nothing redelivered). */
  setPaused(name: string, paused: { reason: string } | undefined): boolean {
    const entry = this.#running.get(name);
    if (!entry) return false;
    if (paused) entry.deliverer.pause(paused.reason);
    else entry.deliverer.resume("resumed");
    return true;
  }

  /** Stops a destination and deletes its consumers (its backlog position goes with them). */
  async remove(name: string): Promise<void> {
    await this.#stopOne(name);
    for (const [stream, durable] of [
      [ENRICHED_STREAM, deliveryConsumerName(name)],
      [DELIVERY_REPLAY_STREAM, `${deliveryConsumerName(name)}-replay`],
    ] as const)
      await this.jsm.consumers.delete(stream, durable).catch((err: unknown) => {
        if (!(err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND)) throw err;
      });
  }

  async #stopOne(name: string): Promise<void> {
    const entry = this.#running.get(name);
    if (!entry) return;
    this.#running.delete(name);
    entry.deliverer.stop();
    await entry.running;
    await entry.deliverer.close();
  }

  /**
   * start(), tried again while a stream it reads does not exist yet: where operators provision the
   * streams (a Helm Job), the process may come first and waits, unready, saying so every 30 s.
   * Resolves undefined when `signal` aborts the wait (the process is stopping).
   */
  static startWhenProvisioned(opts: DeliveryServiceOptions, signal: AbortSignal): Promise<DeliveryService | undefined> {
    return retryWhileStreamMissing(() => DeliveryService.start(opts), {
      onWait: (attempt) => {
        if (attempt % 15 === 0)
          opts.log.warn(
            { streams: [ENRICHED_STREAM, DELIVERY_REPLAY_STREAM] },
            "a stream it reads does not exist yet (EVENTS, DELIVERY_REPLAY); waiting for it to be provisioned",
          );
      },
      signal,
    });
  }

  /** Each destination's position in the hub stream: backlog (pending) and events in hand. */
  /** Null when NATS did not answer: stats still answer with the counters. */
  lag(name: string): Promise<DeliveryBacklog | null> {
    return deliveryBacklog(this.jsm, name);
  }

  /** Stops pulling everywhere and waits for the requests in flight (graceful drain). */
  async stop(): Promise<void> {
    const entries = [...this.#running.values()];
    for (const { deliverer } of entries) deliverer.stop();
    await Promise.all(entries.map((e) => e.running));
    for (const { deliverer } of entries) await deliverer.close();
    this.#running.clear();
  }
}

const CONSUMER_NOT_FOUND = 10014;

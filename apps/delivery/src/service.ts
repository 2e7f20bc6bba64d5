import {
  jetstream,
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
  deliveryConsumerConfig,
  deliveryConsumerName,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayConsumerConfig,
  deliveryReplayStreamConfig,
  DELIVERY_REPLAY_STREAM,
  ensureConsumer,
  ensureStream,
  HUB_STREAM,
  retryWhileStreamMissing,
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
}

/** The running deliverers of one process, one per destination, and what the HTTP side needs. */
export class DeliveryService {
  readonly #running: Array<Promise<void>> = [];
  private constructor(
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly deliverers: Map<string, { deliverer: Deliverer; config: DestinationConfig }>,
  ) {}

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
    const deliverers = new Map<string, { deliverer: Deliverer; config: DestinationConfig }>();
    const service = new DeliveryService(js, jsm, deliverers);
    // Every consumer first, then the deliverers: a start that fails (a stream not provisioned yet)
    // leaves nothing running, so it can simply be tried again.
    for (const config of opts.destinations) {
      // Bounded by the deliverer's request slots; a little above so acks in flight do not stall pulls.
      const maxAckPending = config.maxInFlight * 4;
      const main = deliveryConsumerConfig({
        destination: config.name,
        filterSubjects: deliveryFilterSubjects(config.sources, config.types),
        maxAckPending,
        ackWaitMs: opts.ackWaitMs,
        deliverPolicy: config.start,
      });
      await ensureConsumer(jsm, HUB_STREAM, main);
      // ensureConsumer keeps a live consumer's filter; a destination's filter follows its config.
      // The one of the two fields not in use is sent as undefined, which drops it from the update.
      await jsm.consumers.update(HUB_STREAM, main.durable_name, {
        filter_subject: main.filter_subject,
        filter_subjects: main.filter_subjects,
      } as Partial<ConsumerUpdateConfig>);
      await ensureConsumer(
        jsm,
        DELIVERY_REPLAY_STREAM,
        deliveryReplayConsumerConfig({ destination: config.name, maxAckPending, ackWaitMs: opts.ackWaitMs }),
      );
    }
    for (const [i, config] of opts.destinations.entries()) {
      const consumers = [
        await js.consumers.get(HUB_STREAM, deliveryConsumerName(config.name)),
        await js.consumers.get(DELIVERY_REPLAY_STREAM, `${deliveryConsumerName(config.name)}-replay`),
      ];
      const deliverer = await Deliverer.create(
        {
          config,
          js,
          consumers,
          signingKeys: opts.signingKeys.get(config.name) ?? [],
          ackWaitMs: opts.ackWaitMs,
          log: opts.log,
          ...(opts.onAttempt ? { onAttempt: opts.onAttempt } : {}),
          ...(opts.onAttemptStart ? { onAttemptStart: opts.onAttemptStart } : {}),
        },
        `destinations[${i}]`,
      );
      deliverers.set(config.name, { deliverer, config });
      service.#running.push(deliverer.run());
    }
    return service;
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
            { streams: [HUB_STREAM, DELIVERY_REPLAY_STREAM] },
            "a stream it reads does not exist yet (EVENTS, DELIVERY_REPLAY); waiting for it to be provisioned",
          );
      },
      signal,
    });
  }

  /** Each destination's position in the hub stream: backlog (pending) and events in hand. */
  async lag(name: string): Promise<{ pending: number; ackPending: number; redelivered: number } | null> {
    try {
      const info = await this.jsm.consumers.info(HUB_STREAM, deliveryConsumerName(name));
      return { pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
    } catch {
      return null; // NATS unreachable: stats still answer with the counters
    }
  }

  /** Stops pulling everywhere and waits for the requests in flight (graceful drain). */
  async stop(): Promise<void> {
    for (const { deliverer } of this.deliverers.values()) deliverer.stop();
    await Promise.all(this.#running);
    for (const { deliverer } of this.deliverers.values()) await deliverer.close();
  }
}

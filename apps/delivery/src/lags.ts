import type { DeliveryService } from "./service.js";

type Lag = Awaited<ReturnType<DeliveryService["lag"]>>;

/** How long a read of the destinations' lags is reused: polling stats never paces NATS requests. */
export const LAG_MAX_AGE_MS = 2_000;

/**
 * Each destination's position in the hub stream for `/v1/stats`, read from NATS at most once per
 * `maxAgeMs` however many callers ask: one read (a `consumers.info` per destination) is shared by
 * everyone asking while it runs and reused until it is `maxAgeMs` old. Without it every stats
 * request made one NATS round trip per destination.
 */
export class LagCache {
  #read: { at: number; lags: Promise<Map<string, Lag>> } | undefined;

  constructor(private readonly maxAgeMs = LAG_MAX_AGE_MS) {}

  lags(service: DeliveryService): Promise<Map<string, Lag>> {
    const now = Date.now();
    if (this.#read === undefined || now - this.#read.at >= this.maxAgeMs) {
      const names = [...service.deliverers.keys()];
      const lags = Promise.all(names.map(async (name) => [name, await service.lag(name)] as const)).then(
        (entries) => new Map(entries),
      );
      this.#read = { at: now, lags };
    }
    return this.#read.lags;
  }
}

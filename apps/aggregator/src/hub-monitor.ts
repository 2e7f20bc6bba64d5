import type { JetStreamManager } from "@nats-io/jetstream";
import type { HubState } from "@tributary/telemetry";

export interface HubMonitorOptions {
  jsm: JetStreamManager;
  /** The hub stream: its size and its sources. */
  stream: string;
  /** The durable consumers whose backlog is reported: the enrich stage's and the loader's. */
  consumers: ReadonlyArray<{ stream: string; durable: string }>;
  dlqStream: string;
  intervalMs: number;
  log: { debug(obj: object, msg?: string): void };
}

/** JetStream durations are nanoseconds. */
const NS_PER_S = 1e9;

/** `EVENTS_US` → `us`: the hub names each source after the regional stream it reads. */
function regionOfSource(name: string): string {
  return name.replace(/^EVENTS_/, "").toLowerCase();
}

/**
 * Reads the hub's state every `intervalMs` for the metrics: the enrich stage's and the loader's
 * consumers (pending and ack-pending), the hub stream's size and its per-region sources (lag, last activity), and the
 * DLQ's size. A part that fails to read is absent until it reads again (a scrape never waits on NATS).
 *
 * The sources' lag is the hub's own view: while a link is down the hub cannot see the region, so
 * lag can read 0 during a stall; last activity and the region's own last sequence (exported by its
 * gateways) are what show it.
 */
export class HubMonitor {
  #state: HubState | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;

  constructor(private readonly opts: HubMonitorOptions) {}

  get state(): HubState | undefined {
    return this.#state;
  }

  start(): void {
    void this.read();
    this.#timer = setInterval(() => void this.read(), this.opts.intervalMs);
    this.#timer.unref();
  }

  /** One reading (one at a time). */
  read(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    const { jsm, stream, consumers, dlqStream, log } = this.opts;
    const [info, dlq, ...read] = await Promise.allSettled([
      jsm.streams.info(stream),
      jsm.streams.info(dlqStream),
      ...consumers.map((c) => jsm.consumers.info(c.stream, c.durable)),
    ]);
    // A part that cannot be read is left out (its metrics go absent), never shown at its last value:
    // a frozen lag or DLQ count would keep alerts quiet exactly when NATS is in trouble.
    const state: HubState = { consumers: [], stream: undefined, sources: [], dlqMessages: undefined };
    read.forEach((consumer, i) => {
      if (consumer.status === "fulfilled")
        state.consumers.push({
          name: consumers[i]!.durable,
          pending: consumer.value.num_pending,
          ackPending: consumer.value.num_ack_pending,
        });
      else log.debug({ err: consumer.reason }, "could not read a consumer's info");
    });
    if (info.status === "fulfilled") {
      const s = info.value;
      state.stream = { messages: s.state.messages, bytes: s.state.bytes, maxBytes: s.config.max_bytes };
      state.sources = (s.sources ?? []).map((src) => ({
        region: regionOfSource(src.name),
        lag: src.lag,
        lastActiveSeconds: src.active >= 0 ? src.active / NS_PER_S : null,
      }));
    } else log.debug({ err: info.reason }, "could not read the hub stream's info");
    if (dlq.status === "fulfilled") state.dlqMessages = dlq.value.state.messages;
    this.#state = state;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#reading;
  }
}

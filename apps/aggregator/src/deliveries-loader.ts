import { setTimeout as sleep } from "node:timers/promises";
import {
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ISOLATE_AFTER_FAILURES, isolateFailing, isolationReason } from "@tributary/loader";
import {
  DELIVERIES_STREAM,
  deadLetterLogRecord,
  ensureConsumer,
  isPermissionDenied,
  JetStreamErrorCode,
  loaderConsumerConfig,
} from "@tributary/streams";
import { hasDeliveryLog, type DeliveryLogStore, type DeliveryRow, type WarehouseSink } from "@tributary/warehouse";

export { DEFAULT_DELIVERIES_DURABLE } from "@tributary/streams";

export interface DeliveriesLoaderCounters {
  batches: number;
  loaded: number;
  duplicates: number;
  /** Records that were not a delivery-log record (acked and skipped). */
  unreadable: number;
  insertFailures: number;
  /** Records the warehouse failed on alone while it took the others: moved to the DLQ. */
  poison: number;
  /** Of those, the ones the DLQ refused every time (terminated without an entry). */
  dlqAbandoned: number;
}

interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A pulled record and its row. */
interface Pulled {
  msg: JsMsg;
  row: DeliveryRow;
}

/** A delivery-log record (packages/delivery's AttemptRecord) as a warehouse row; null when unreadable. */
export function deliveryRowOf(msg: { seq: number; data: Uint8Array }): DeliveryRow | null {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(new TextDecoder().decode(msg.data)) as Record<string, unknown>;
  } catch {
    return null;
  }
  const at = new Date(String(r.at));
  if (typeof r.destination !== "string" || typeof r.event_key !== "string" || Number.isNaN(at.getTime())) return null;
  return {
    log_seq: msg.seq,
    destination: r.destination,
    event_key: r.event_key,
    attempt: Number(r.attempt) || 0,
    outcome: String(r.outcome ?? ""),
    status: Number(r.status) || 0,
    latency_ms: Number(r.latency_ms) || 0,
    error: String(r.error ?? ""),
    at,
  };
}

/** Waits `ms`; true, or false as soon as `signal` aborts (a stop must not wait out a 30 s backoff). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return sleep(ms, true, signal ? { signal } : {}).catch(() => false);
}

/**
 * Loads the delivery process's attempt log (`DELIVERIES` stream) into the warehouse's
 * `deliveries` table: pull a batch, insert (idempotent by the record's stream sequence), ack.
 * Deliberately simpler than the event loader: small records, no dedupe window. While the warehouse
 * fails the batch is nak'ed and pulled again after a pause; after ISOLATE_AFTER_FAILURES failures in
 * a row (then twice as many each time nothing went in) an isolation round (`isolateFailing` of
 * @tributary/loader) loads what it can and moves a record the warehouse fails on alone to the DLQ
 * (`deadLetterLogRecord`), so one record cannot stall the log for good.
 */
export class DeliveriesLoader {
  readonly counters: DeliveriesLoaderCounters = {
    batches: 0,
    loaded: 0,
    duplicates: 0,
    unreadable: 0,
    insertFailures: 0,
    poison: 0,
    dlqAbandoned: 0,
  };
  readonly #stop = new AbortController();

  constructor(
    private readonly consumer: Consumer,
    private readonly store: DeliveryLogStore,
    private readonly log: Log,
    private readonly batchSize = 1_000,
    /** Where a poison record is dead-lettered; without it such records wait like the rest. */
    private readonly js?: JetStreamClient,
  ) {}

  async run(): Promise<void> {
    let failures = 0;
    let nextRound = ISOLATE_AFTER_FAILURES;
    while (!this.#stop.signal.aborted) {
      const msgs: JsMsg[] = [];
      try {
        const batch = await this.consumer.fetch({ max_messages: this.batchSize, expires: 1_000 });
        for await (const m of batch) msgs.push(m);
      } catch (err) {
        if (!this.#stop.signal.aborted) this.log.warn({ err }, "delivery log: pull failed; retrying");
        await pause(1_000, this.#stop.signal);
        continue;
      }
      if (msgs.length === 0) continue;
      const pulled: Pulled[] = [];
      for (const msg of msgs) {
        const row = deliveryRowOf(msg);
        if (row) pulled.push({ msg, row });
        else {
          this.counters.unreadable++;
          msg.ack();
        }
      }
      try {
        await this.#insert(pulled);
        failures = 0;
        nextRound = ISOLATE_AFTER_FAILURES;
      } catch (err) {
        this.counters.insertFailures++;
        failures++;
        if (failures === 1 || failures % 10 === 0)
          this.log.warn({ err, failures }, "delivery log: insert failed; the batch will be loaded again");
        if (this.js && failures >= nextRound) {
          const undecided = await this.#isolate(pulled, this.js);
          if (undecided.length < pulled.length) {
            failures = 0; // the warehouse took something: it is up
            nextRound = ISOLATE_AFTER_FAILURES;
          } else nextRound *= 2;
          for (const p of undecided) p.msg.nak();
          if (undecided.length === 0) continue;
        } else for (const p of pulled) p.msg.nak();
        await pause(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), this.#stop.signal);
      }
    }
  }

  /** Inserts the records' rows and acks them. */
  async #insert(pulled: readonly Pulled[]): Promise<void> {
    const result = await this.store.insertDeliveries(pulled.map((p) => p.row));
    this.counters.batches++;
    this.counters.loaded += result.inserted;
    this.counters.duplicates += result.duplicates;
    for (const p of pulled) p.msg.ack();
  }

  /** An isolation round: loads what goes in, dead-letters what fails alone; answers the rest. */
  async #isolate(pulled: readonly Pulled[], js: JetStreamClient): Promise<Pulled[]> {
    const round = await isolateFailing(pulled, (chunk) => this.#insert(chunk));
    for (const { item, error } of round.poison) {
      const reason = isolationReason(error);
      const outcome = await deadLetterLogRecord(js, item.msg, reason);
      if (outcome === "stored") this.counters.poison++;
      if (outcome === "abandoned") this.counters.dlqAbandoned++;
      this.log.warn(
        { reason, origin: `${item.msg.info.stream}:${item.msg.seq}`, outcome },
        "delivery log: a record the warehouse fails on alone goes to the DLQ",
      );
    }
    return round.undecided;
  }

  stop(): void {
    this.#stop.abort();
  }
}

/** How often the aggregator looks again for a `DELIVERIES` stream that is not there yet. */
export const DELIVERIES_RECHECK_MS = 30_000;

export interface StartDeliveriesLoaderOptions {
  nc: NatsConnection;
  sink: WarehouseSink;
  durable: string;
  ackWaitMs: number;
  log: Log;
  /**
   * While the hub has no `DELIVERIES` stream, look again this often: delivery can be enabled
   * (and its streams provisioned) after the aggregator started. 0: look once.
   */
  recheckMs?: number;
  /** Stops the waiting (the aggregator shuts down). */
  signal?: AbortSignal;
}

/**
 * Starts the delivery-log loader when there is something to load: the sink keeps a delivery log
 * and the hub has a `DELIVERIES` stream. Without the stream it waits for one (said once in the
 * log), re-checking every `recheckMs`; a user not allowed to look keeps it off.
 */
export async function startDeliveriesLoader(
  opts: StartDeliveriesLoaderOptions,
): Promise<{ loader: DeliveriesLoader; running: Promise<void> } | undefined> {
  if (!hasDeliveryLog(opts.sink)) return undefined;
  const jsm = await jetstreamManager(opts.nc);
  const recheckMs = opts.recheckMs ?? DELIVERIES_RECHECK_MS;
  for (let said = false; ; said = true) {
    try {
      await jsm.streams.info(DELIVERIES_STREAM);
      break;
    } catch (err) {
      if (opts.nc.isClosed() || opts.nc.isDraining()) return undefined;
      if (isPermissionDenied(err)) {
        // A user without delivery-log permissions: off, said once.
        opts.log.warn(
          { err, stream: DELIVERIES_STREAM },
          "not allowed to read the delivery-log stream: delivery log loading is off",
        );
        return undefined;
      }
      const missing = err instanceof JetStreamApiError && err.code === JetStreamErrorCode.StreamNotFound;
      // Missing, or a passing failure (a reconnect, a leader election): look again later.
      if (!said) {
        if (missing)
          opts.log.info(
            { stream: DELIVERIES_STREAM, recheckMs },
            recheckMs > 0
              ? "no delivery-log stream at the hub yet: loading starts when it appears"
              : "no delivery-log stream at the hub: delivery log loading is off",
          );
        else
          opts.log.warn(
            { err, stream: DELIVERIES_STREAM, recheckMs },
            "cannot read the delivery-log stream now; looking again",
          );
      }
      if (recheckMs <= 0) return undefined;
      if (!(await pause(recheckMs, opts.signal))) return undefined; // stopping
    }
  }
  if (opts.signal?.aborted) return undefined;
  await opts.sink.migrateDeliveries();
  await ensureConsumer(
    jsm,
    DELIVERIES_STREAM,
    loaderConsumerConfig({ durable: opts.durable, maxAckPending: 10_000, ackWaitMs: opts.ackWaitMs }),
  );
  const consumer = await jetstream(opts.nc).consumers.get(DELIVERIES_STREAM, opts.durable);
  const loader = new DeliveriesLoader(consumer, opts.sink, opts.log, undefined, jetstream(opts.nc));
  opts.log.info({ stream: DELIVERIES_STREAM, durable: opts.durable }, "loading the delivery log");
  return { loader, running: loader.run() };
}

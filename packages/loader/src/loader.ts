import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Tracer } from "@opentelemetry/api";
import { deadLetterEvent, EventHeader, type CumulativeAcks } from "@tributary/streams";
import type { AggregatorMetrics, LoadedRow } from "@tributary/telemetry";
import type { RecentKeys } from "@tributary/dedupe";
import {
  pickColumns,
  rowOfColumns,
  type EventColumns,
  type InsertResult,
  type WarehouseSink,
} from "@tributary/warehouse";
import { AdaptiveBatchSize, DEFAULT_ADAPTIVE } from "./adaptive.js";
import type { BatchPolicy, BatchState } from "./batch-policy.js";
import { ISOLATE_AFTER_FAILURES, isolateFailing, isolationReason } from "./isolate.js";
import { joinMapped, mapEach, type BatchMapper, type MappedBatch } from "./mapped.js";
import { createInsertPolicy, isRejected, type InsertPolicy } from "./resilience.js";
import type { RowOutcome, StreamMessage } from "./rows.js";
import { BatchTrace } from "./tracing.js";

export interface LoaderCounters {
  batches: number;
  loaded: number;
  /** Dropped by the recent-key set (e.g. the same event accepted in two regions). */
  recentDuplicates: number;
  /** Rows the warehouse already had (its unique key, the last dedupe depth). */
  duplicates: number;
  poison: number;
  insertFailures: number;
  /** Batches split to find rows the warehouse refused, or failed on (isolation rounds). */
  bisections: number;
  /** Poison events the DLQ refused DLQ_WRITE_ATTEMPTS times: terminated without an entry. */
  dlqAbandoned: number;
}

/** The little a loader logs; pino, Fastify's logger or console fit. */
export interface LoaderLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface LoaderOptions {
  messages: ConsumerMessages;
  js: JetStreamClient;
  sink: WarehouseSink;
  /** Maps a stream message to a row, or names why it is poison (on this thread; or give `mapper`). */
  toRow?: (msg: StreamMessage) => RowOutcome;
  /** Maps whole batches, e.g. a MappingPool on worker threads; used instead of `toRow`. */
  mapper?: BatchMapper;
  /** `maxEvents` is the ceiling; the adaptive size moves below it. */
  policy: BatchPolicy;
  adaptive?: AdaptiveBatchSize;
  /** Batches being inserted at once (the next batch fills while earlier ones load). */
  maxFlushesInFlight?: number;
  /** The consumer's ack_wait: held messages get an in-progress ack well before it runs out. */
  ackWaitMs: number;
  /** Keys loaded recently; a hit skips the warehouse round trip. Off when undefined. */
  recentKeys?: RecentKeys;
  log: LoaderLog;
  /** Consecutive insert failures that open the circuit breaker. */
  failuresToOpen?: number;
  /** Batch size, flush time and per-row latency histograms. */
  metrics?: Pick<AggregatorMetrics, "recordLoad">;
  /** With tracing on: a consumer span per event and a load span per batch (see BatchTrace). */
  tracer?: Tracer;
  /** Sees every message as it is pulled, before any batching (e.g. to note which secret signed it). */
  observe?: (msg: JsMsg) => void;
  /** The consumer acks cumulatively: messages are settled through these (default: each acked on its own). */
  acks?: CumulativeAcks;
}

export const DEFAULT_FLUSHES_IN_FLIGHT = 2;

/** A filling batch is handed to the mapper this many messages at a time: mapped while it fills. */
export const MAP_STEP = 1_000;

const TIMEOUT = Symbol("timeout");

/** Resolves to TIMEOUT when the filling batch is due by age: one timer per batch, not one per message. */
class Deadline {
  #at = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #due: Promise<typeof TIMEOUT> | undefined;

  /** The promise for `at` (epoch ms; Infinity: none), made once per distinct `at`. */
  until(at: number): Promise<typeof TIMEOUT> | undefined {
    if (at !== this.#at) {
      this.clear();
      this.#at = at;
      if (at !== Infinity)
        this.#due = new Promise((resolve) => {
          this.#timer = setTimeout(() => resolve(TIMEOUT), Math.max(0, at - Date.now()));
        });
    }
    return this.#due;
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#at = Infinity;
    this.#due = undefined;
  }
}

/** A message being loaded, and its row: position `at` in its batch's columns. */
interface Held {
  msg: JsMsg;
  rows: EventColumns;
  at: number;
}

/** A sink that takes rows column by column (DuckDbSink); others get row objects. */
interface ColumnSink {
  insertColumns(cols: EventColumns): Promise<InsertResult>;
}
const takesColumns = (sink: WarehouseSink): sink is WarehouseSink & ColumnSink =>
  typeof (sink as Partial<ColumnSink>).insertColumns === "function";

/** The rows of `held`, in order, as columns: the batch's own when they are all of it. */
function columnsOf(held: readonly Held[]): EventColumns {
  const rows = held[0]?.rows;
  if (!rows) throw new TypeError("columnsOf: no rows");
  if (held.length === rows.length && held.every((h, i) => h.at === i && h.rows === rows)) return rows;
  return pickColumns(
    rows,
    held.map((h) => h.at),
  );
}

/** A batch's failures in a row, and after how many the next isolation round is due. */
interface Suspicion {
  failures: number;
  nextRound: number;
}

/** Thrown out of the insert policy's retries when a batch is due an isolation round. */
class SuspectBatch extends Error {}

/**
 * The rows a committed batch added, for the latency histograms (one observation per new row). A
 * sink reports how many rows were new, not which (ClickHouse cannot say): when some were already
 * there (or went to the DLQ), the first `inserted` rows of the batch stand in for the new ones —
 * the count is exact, the latencies are those of the same batch.
 */
function* loadedRows(held: readonly Held[], result: InsertResult): Iterable<LoadedRow> {
  const n = Math.min(result.inserted, held.length);
  for (let i = 0; i < n; i++) {
    const { rows, at } = held[i]!;
    const occurred = rows.occurred_at[at]!;
    yield {
      region: rows.region[at]!,
      source: rows.source[at]!,
      receivedAtMs: rows.received_at[at]!,
      occurredAtMs: Number.isNaN(occurred) ? null : occurred,
    };
  }
}

/**
 * pull ▸ batch (count / bytes / age; the count adapts to the warehouse) ▸ insert (up to N batches
 * at once) ▸ ack only after the commit. While the warehouse fails, each batch is held with
 * in-progress acks and retried with backoff behind a circuit breaker; with every flush slot busy the
 * loop stops taking messages, the consumer's bounded buffer stops pulling, and the backlog waits in
 * the stream rather than in memory. Rows the warehouse refuses are isolated by splitting the batch
 * and go to the DLQ; the rest load.
 */
export class Loader {
  readonly counters: LoaderCounters = {
    batches: 0,
    loaded: 0,
    recentDuplicates: 0,
    duplicates: 0,
    poison: 0,
    insertFailures: 0,
    bisections: 0,
    dlqAbandoned: 0,
  };
  readonly adaptive: AdaptiveBatchSize;
  /** The newest receipt time among the rows this process committed, and when (freshness for `/v1/stats`). */
  lastLoad: { newestReceivedAt: Date; committedAt: Date } | undefined;
  readonly #insert: InsertPolicy;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #lastInsertFailed = false;
  /** Inserts committed so far: another flush's commit shows the warehouse is up. */
  #commits = 0;

  constructor(private readonly opts: LoaderOptions) {
    if (!opts.toRow === !opts.mapper) throw new TypeError("Loader: give either toRow or mapper");
    this.adaptive =
      opts.adaptive ??
      new AdaptiveBatchSize({
        min: Math.min(100, opts.policy.maxEvents),
        max: opts.policy.maxEvents,
        targetLatencyMs: DEFAULT_ADAPTIVE.targetLatencyMs,
      });
    this.#insert = createInsertPolicy({
      ...(opts.failuresToOpen !== undefined ? { failuresToOpen: opts.failuresToOpen } : {}),
      onBreak: () => opts.log.warn({}, "warehouse failing: circuit open, pulling paused"),
      onReset: () => opts.log.info({}, "warehouse recovered: circuit closed"),
      onRetry: (attempt, delayMs, error) => {
        this.counters.insertFailures++;
        this.#lastInsertFailed = true;
        if (attempt === 1 || attempt % 10 === 0)
          opts.log.warn(
            { err: error, attempt, retryInMs: delayMs },
            "warehouse insert failed; holding the batch and retrying",
          );
      },
    });
  }

  /** False while the warehouse is failing (breaker open, or the last insert failed). */
  get healthy(): boolean {
    return !this.#insert.isOpen() && !this.#lastInsertFailed;
  }

  /** Runs until stop(); resolves after every batch in hand was loaded (or handed back). */
  async run(): Promise<void> {
    const { messages, policy } = this.opts;
    const maxInFlight = this.opts.maxFlushesInFlight ?? DEFAULT_FLUSHES_IN_FLIGHT;
    const it = messages[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<JsMsg>> | undefined;
    let batch: JsMsg[] = [];
    // The batch's messages handed to the mapper so far, a step at a time (in order), and their mapping.
    let mapping: Array<Promise<MappedBatch>> = [];
    let mappedUpTo = 0;
    const mapRest = () => {
      if (mappedUpTo === batch.length) return;
      const part = this.#map(batch.slice(mappedUpTo));
      part.catch(() => undefined); // handled in #flush, once the batch has a slot
      mapping.push(part);
      mappedUpTo = batch.length;
    };
    const state: BatchState = { events: 0, bytes: 0, startedAt: undefined };
    const deadline = new Deadline();

    const dispatch = async () => {
      mapRest();
      const current = batch;
      const parts = mapping;
      const wasFull = state.events >= this.adaptive.current;
      batch = [];
      mapping = [];
      mappedUpTo = 0;
      state.events = 0;
      state.bytes = 0;
      state.startedAt = undefined;
      if (current.length === 0) return;
      const mapped = Promise.all(parts).then(joinMapped);
      mapped.catch(() => undefined);
      // Backpressure: with every slot busy, stop taking messages until one frees up.
      while (this.#inFlight.size >= maxInFlight) await Promise.race(this.#inFlight);
      const flush: Promise<void> = this.#flush(current, wasFull, mapped).finally(() => this.#inFlight.delete(flush));
      this.#inFlight.add(flush);
    };

    for (;;) {
      pending ??= it.next();
      const due = deadline.until(state.startedAt === undefined ? Infinity : state.startedAt + policy.maxAgeMs);
      const next = due ? await Promise.race([pending, due]) : await pending;
      if (next === TIMEOUT) {
        await dispatch();
        continue;
      }
      pending = undefined;
      if (next.done) break;
      const msg = this.opts.acks ? this.opts.acks.track(next.value) : next.value;
      this.opts.observe?.(msg);
      batch.push(msg);
      state.events++;
      state.bytes += msg.data.length;
      state.startedAt ??= Date.now();
      if (state.events >= this.adaptive.current || state.bytes >= policy.maxBytes) await dispatch();
      // The mapper's workers map the batch while it fills; on this thread, mapping waits for the flush.
      else if (this.opts.mapper && batch.length - mappedUpTo >= MAP_STEP) mapRest();
    }
    deadline.clear();
    await dispatch();
    await Promise.all(this.#inFlight);
    this.opts.acks?.close();
  }

  /** Stops pulling; run() then finishes the batches in hand and returns. */
  stop(): void {
    this.opts.messages.stop();
  }

  /** Stops at once: batches still waiting for the warehouse are handed back (nak) for redelivery. */
  abort(): void {
    this.#abort.abort();
    this.stop();
  }

  #map(msgs: JsMsg[]): Promise<MappedBatch> {
    const { mapper, toRow } = this.opts;
    if (mapper) return mapper.map(msgs);
    try {
      return Promise.resolve(mapEach(msgs, toRow!));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The batch's messages by fate: poison (dead-lettered here), loaded recently (acked with the batch), to load. */
  async #sort(msgs: JsMsg[], mapped: MappedBatch, spans: BatchTrace<JsMsg> | undefined) {
    const { recentKeys } = this.opts;
    const now = Date.now();
    const held: Held[] = [];
    const alreadyLoaded: JsMsg[] = [];
    const poison: Array<Promise<unknown>> = [];
    msgs.forEach((msg, i) => {
      const at = mapped.rowOf[i]!;
      if (at < 0) {
        const reason = mapped.poison.get(i) ?? "unmappable";
        poison.push(this.#deadLetter(msg, reason));
        spans?.end(msg, "poison", reasonCode(reason));
      } else if (recentKeys?.has(mapped.rows.event_key[at]!, now) && !msg.headers?.has(EventHeader.ReplayedFrom))
        alreadyLoaded.push(msg);
      // A replay (`tributary replay`, a DLQ replay) always reaches the warehouse: it is how rows lost
      // there are restored, and the warehouse key still keeps it to one row.
      else held.push({ msg, rows: mapped.rows, at });
    });
    await Promise.all(poison);
    return { held, alreadyLoaded };
  }

  async #flush(msgs: JsMsg[], wasFull: boolean, mapping: Promise<MappedBatch>): Promise<void> {
    const { tracer } = this.opts;
    const spans =
      tracer && msgs.length > 0
        ? new BatchTrace(tracer, msgs, { stream: msgs[0]!.info.stream, consumer: msgs[0]!.info.consumer })
        : undefined;
    let mapped: MappedBatch;
    try {
      mapped = await mapping;
    } catch (err) {
      // A worker that died, or a bug: nothing was decided about these messages; they come back.
      this.opts.log.error({ err, events: msgs.length }, "batch not mapped; handing it back for redelivery");
      spans?.endAll("redelivered");
      for (const msg of msgs) msg.nak();
      return;
    }
    const { held, alreadyLoaded } = await this.#sort(msgs, mapped, spans);

    // Keep the held messages ours while the insert (or its retries) runs.
    const keepAlive = setInterval(
      () => {
        for (const h of held) h.msg.working();
      },
      Math.max(1_000, this.opts.ackWaitMs / 3),
    );
    keepAlive.unref();
    const started = Date.now();
    if (held.length > 0)
      spans?.startLoad(
        held.map((h) => h.msg),
        this.opts.sink.kind,
      );
    try {
      const result = await this.#insertIsolating(held);
      const committedAtMs = Date.now();
      spans?.endLoad(result);
      this.#lastInsertFailed = false;
      this.adaptive.record(committedAtMs - started, wasFull);
      this.counters.batches++;
      this.counters.loaded += result.inserted;
      this.counters.duplicates += result.duplicates;
      for (const msg of alreadyLoaded) msg.ack();
      this.counters.recentDuplicates += alreadyLoaded.length;
      if (result.inserted > 0) this.#noteLoad(held, committedAtMs);
      if (held.length > 0)
        this.opts.metrics?.recordLoad({
          events: held.length,
          flushSeconds: (committedAtMs - started) / 1000,
          committedAtMs,
          rows: loadedRows(held, result),
        });
      for (const msg of alreadyLoaded) spans?.end(msg, "duplicate");
      spans?.endAll("loaded");
    } catch (err) {
      spans?.endLoad({ error: err });
      spans?.endAll("redelivered");
      // Stopping while the warehouse is down, or an unexpected error: hand everything back.
      if (!this.#abort.signal.aborted)
        this.opts.log.error({ err, events: held.length }, "batch not loaded; handing it back for redelivery");
      for (const h of held) h.msg.nak();
      for (const msg of alreadyLoaded) msg.ack();
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Inserts the rows and acks their messages. When the warehouse refuses the batch because of its
   * data, the batch is split in halves until the refused rows stand alone; those go to the DLQ.
   * When it keeps failing the batch otherwise, the batch is retried (the warehouse may be down)
   * until an isolation round is due (isolate.ts), which finds a row it fails on alone.
   */
  async #insertIsolating(
    held: Held[],
    suspicion: Suspicion = { failures: 0, nextRound: ISOLATE_AFTER_FAILURES },
  ): Promise<InsertResult> {
    if (held.length === 0) return { inserted: 0, duplicates: 0 };
    let result: InsertResult;
    try {
      result = await this.#insertRetrying(held, suspicion);
    } catch (err) {
      if (err instanceof SuspectBatch) return this.#isolationRound(held, suspicion);
      if (!isRejected(err)) throw err;
      if (held.length === 1) {
        await this.#deadLetter(held[0]!.msg, `warehouse_rejected: ${err.message}`);
        return { inserted: 0, duplicates: 0 };
      }
      this.counters.bisections++;
      const middle = Math.ceil(held.length / 2);
      const left = await this.#insertIsolating(held.slice(0, middle));
      const right = await this.#insertIsolating(held.slice(middle));
      return { inserted: left.inserted + right.inserted, duplicates: left.duplicates + right.duplicates };
    }
    this.#committed(held);
    return result;
  }

  /** Acks committed rows. Keys are remembered only once committed: a key of a failed batch must not hide its redelivery. */
  #committed(held: readonly Held[]): void {
    this.#commits++;
    const now = Date.now();
    for (const h of held) {
      this.opts.recentKeys?.checkAndAdd(h.rows.event_key[h.at]!, now);
      h.msg.ack();
    }
  }

  /**
   * The policy's retries (backoff, breaker), stopped with SuspectBatch once this batch has failed
   * `nextRound` times in a row, or ISOLATE_AFTER_FAILURES times while another flush committed
   * meanwhile (the warehouse is up: this batch is what it fails on).
   */
  /** One insert of the held rows: column by column where the sink takes that. */
  #insertRows(held: readonly Held[]): Promise<InsertResult> {
    const { sink } = this.opts;
    const cols = columnsOf(held);
    if (takesColumns(sink)) return sink.insertColumns(cols);
    return sink.insertBatch(Array.from({ length: cols.length }, (_, i) => rowOfColumns(cols, i)));
  }

  async #insertRetrying(held: readonly Held[], suspicion: Suspicion): Promise<InsertResult> {
    const due = new AbortController();
    const commitsBefore = this.#commits;
    try {
      return await this.#insert.policy.execute(
        async () => {
          try {
            return await this.#insertRows(held);
          } catch (err) {
            if (!isRejected(err)) {
              suspicion.failures++;
              const othersCommitted = this.#commits > commitsBefore;
              if (suspicion.failures >= (othersCommitted ? ISOLATE_AFTER_FAILURES : suspicion.nextRound)) due.abort();
            }
            throw err;
          }
        },
        AbortSignal.any([this.#abort.signal, due.signal]),
      );
    } catch (err) {
      if (due.signal.aborted && !this.#abort.signal.aborted)
        throw new SuspectBatch("isolation round due", { cause: err });
      throw err;
    }
  }

  /**
   * An isolation round over a batch the warehouse keeps failing: what goes in is acked, a row that
   * fails alone while the warehouse takes others goes to the DLQ (`warehouse_failed`), and the rest
   * (nothing went in: the warehouse is down) goes back to the retries, its next round twice as far.
   */
  async #isolationRound(held: Held[], suspicion: Suspicion): Promise<InsertResult> {
    this.counters.bisections++;
    const total: InsertResult = { inserted: 0, duplicates: 0 };
    const commitsBefore = this.#commits;
    const round = await isolateFailing(
      held,
      async (chunk) => {
        const result = await this.#insertRows(chunk);
        total.inserted += result.inserted;
        total.duplicates += result.duplicates;
        this.#committed(chunk);
      },
      { alive: () => this.#commits > commitsBefore },
    );
    for (const { item, error } of round.poison) await this.#deadLetter(item.msg, isolationReason(error));
    if (round.undecided.length < held.length)
      Object.assign(suspicion, { failures: 0, nextRound: ISOLATE_AFTER_FAILURES });
    else suspicion.nextRound *= 2;
    const rest = await this.#insertIsolating(round.undecided, suspicion);
    return { inserted: total.inserted + rest.inserted, duplicates: total.duplicates + rest.duplicates };
  }

  #noteLoad(held: readonly Held[], committedAtMs: number): void {
    let newest = this.lastLoad?.newestReceivedAt.getTime() ?? 0;
    for (const h of held) newest = Math.max(newest, h.rows.received_at[h.at]!);
    this.lastLoad = { newestReceivedAt: new Date(newest), committedAt: new Date(committedAtMs) };
  }

  async #deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const outcome = await deadLetterEvent(this.opts.js, msg, reason);
    const origin = `${msg.info.stream}:${msg.seq}`;
    if (outcome === "stored") {
      this.counters.poison++;
      this.opts.log.warn({ reason: reasonCode(reason), origin }, "poison event moved to the DLQ");
    } else if (outcome === "retrying") {
      this.opts.log.error(
        { reason: reasonCode(reason), origin },
        "could not write a poison event to the DLQ; it will be redelivered",
      );
    } else {
      // Terminal: the DLQ refused it every time (full, or gone); the hub stream still has it.
      this.counters.dlqAbandoned++;
      this.opts.log.error(
        { reason: reasonCode(reason), origin },
        "the DLQ refused a poison event every time: given up",
      );
    }
  }
}

/**
 * A poison reason's code (`invalid_json`, `schema_violation`, …) without its detail: the detail can
 * quote the event's body (V8's JSON errors do), which belongs in the DLQ entry, not in logs or traces.
 */
export function reasonCode(reason: string): string {
  const colon = reason.indexOf(":");
  return colon < 0 ? reason : reason.slice(0, colon);
}

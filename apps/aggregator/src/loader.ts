import { headers as createHeaders } from "@nats-io/nats-core";
import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { RecentKeys } from "@tributary/dedupe";
import type { WarehouseRow } from "@tributary/schema";
import { dlqSubject, EventHeader } from "@tributary/streams";
import type { WarehouseSink } from "@tributary/warehouse";
import type { FastifyBaseLogger } from "fastify";
import { isFull, msUntilDue, type BatchPolicy, type BatchState } from "./batch-policy.js";
import { rowFromMessage } from "./rows.js";

export interface LoaderCounters {
  batches: number;
  loaded: number;
  /** Dropped by the aggregator's recent-key set (e.g. the same event accepted in two regions). */
  recentDuplicates: number;
  /** Rows the warehouse already had (its unique key, the last dedupe depth). */
  duplicates: number;
  poison: number;
  insertFailures: number;
}

export interface LoaderOptions {
  messages: ConsumerMessages;
  js: JetStreamClient;
  sink: WarehouseSink;
  policy: BatchPolicy;
  log: FastifyBaseLogger;
  /** Consumer ack_wait: held messages get an in-progress ack well before it runs out. */
  ackWaitMs: number;
  /** Keys loaded recently, across regions; a hit skips the warehouse round trip. Off when undefined. */
  recentKeys: RecentKeys | undefined;
}

const TIMEOUT = Symbol("timeout");
const MAX_BACKOFF_MS = 5_000;

function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  if (ms === Infinity) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * consume ▸ batch (count/bytes/age) ▸ insert ▸ ack. Messages are acked only after the warehouse
 * committed them; while the warehouse fails, the loop holds the batch (renewing its ack deadline)
 * and retries with backoff, and the consumer's bounded buffer stops pulling, so the backlog
 * waits in the stream, not in memory.
 */
export class Loader {
  readonly counters: LoaderCounters = { batches: 0, loaded: 0, recentDuplicates: 0, duplicates: 0, poison: 0, insertFailures: 0 };
  #stopping = false;
  #healthy = true;

  constructor(private readonly opts: LoaderOptions) {}

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Runs until stop(); resolves after the last batch was flushed (or left unacked). */
  async run(): Promise<void> {
    const { messages, policy } = this.opts;
    const it = messages[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<JsMsg>> | undefined;
    let batch: JsMsg[] = [];
    const state: BatchState = { events: 0, bytes: 0, startedAt: undefined };

    const flushNow = async () => {
      const current = batch;
      batch = [];
      state.events = 0;
      state.bytes = 0;
      state.startedAt = undefined;
      if (current.length) await this.#flush(current);
    };

    for (;;) {
      pending ??= it.next();
      const next = await raceTimeout(pending, msUntilDue(policy, state, Date.now()));
      if (next === TIMEOUT) {
        await flushNow();
        continue;
      }
      pending = undefined;
      if (next.done) break;
      const msg = next.value;
      batch.push(msg);
      state.events++;
      state.bytes += msg.data.length;
      state.startedAt ??= Date.now();
      if (isFull(policy, state)) await flushNow();
    }
    await flushNow();
  }

  /** Stops pulling; run() then flushes what it holds and returns. */
  stop(): void {
    this.#stopping = true;
    this.opts.messages.stop();
  }

  async #flush(msgs: JsMsg[]): Promise<void> {
    const { recentKeys } = this.opts;
    const now = Date.now();
    const rows: WarehouseRow[] = [];
    const good: JsMsg[] = [];
    const alreadyLoaded: JsMsg[] = [];
    for (const msg of msgs) {
      const outcome = rowFromMessage(msg);
      if (!outcome.ok) {
        await this.#deadLetter(msg, outcome.reason);
      } else if (recentKeys?.has(outcome.row.event_key, now)) {
        alreadyLoaded.push(msg);
      } else {
        rows.push(outcome.row);
        good.push(msg);
      }
    }
    if (rows.length > 0) {
      const result = await this.#insertWithRetry(rows, good);
      if (!result) return; // stopping while the warehouse is down: leave unacked, redelivered later
      // Remembered only once committed: a key of a failed batch must not hide its redelivery.
      if (recentKeys) for (const row of rows) recentKeys.checkAndAdd(row.event_key, now);
      for (const msg of good) msg.ack();
      this.counters.batches++;
      this.counters.loaded += result.inserted;
      this.counters.duplicates += result.duplicates;
    }
    for (const msg of alreadyLoaded) msg.ack();
    this.counters.recentDuplicates += alreadyLoaded.length;
  }

  async #insertWithRetry(rows: WarehouseRow[], held: JsMsg[]) {
    let backoff = 100;
    let lastProgress = Date.now();
    for (;;) {
      try {
        const result = await this.opts.sink.insertBatch(rows);
        this.#healthy = true;
        return result;
      } catch (err) {
        this.#healthy = false;
        this.counters.insertFailures++;
        this.opts.log.warn({ err, rows: rows.length, retryInMs: backoff }, "warehouse insert failed; holding the batch and retrying");
        if (this.#stopping) return undefined;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        if (Date.now() - lastProgress > this.opts.ackWaitMs / 3) {
          for (const msg of held) msg.working();
          lastProgress = Date.now();
        }
      }
    }
  }

  /** Poison goes to EVENTS_DLQ with its reason, original headers and bytes; then it is terminated. */
  async #deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const h = createHeaders();
    for (const [name, values] of msg.headers ?? []) {
      // Nats-Msg-Id would make the DLQ dedupe a replayed poison event away; keep it under another name.
      if (name === EventHeader.MsgId) h.set("Tributary-Original-Msg-Id", values[0] ?? "");
      else for (const value of values) h.append(name, value);
    }
    h.set(EventHeader.DlqReason, reason.slice(0, 1000));
    h.set(EventHeader.DlqOrigin, `${msg.info.stream}:${msg.seq}`);
    const source = msg.headers?.get(EventHeader.Source) || "unknown";
    try {
      await this.opts.js.publish(dlqSubject(/^[a-z][a-z0-9_-]{0,31}$/.test(source) ? source : "unknown"), msg.data, { headers: h });
      msg.term(reason.slice(0, 200));
      this.counters.poison++;
      this.opts.log.warn({ reason, origin: `${msg.info.stream}:${msg.seq}` }, "poison event moved to the DLQ");
    } catch (err) {
      // Not stored in the DLQ: leave it to be redelivered rather than lose it.
      this.opts.log.error({ err, reason }, "could not write a poison event to the DLQ; it will be redelivered");
      msg.nak(5_000);
    }
  }
}

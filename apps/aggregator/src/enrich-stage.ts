import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { headers as createHeaders, type MsgHdrsImpl, type NatsConnection } from "@nats-io/nats-core";
import type { Enricher } from "@tributary/enrich";
import { packMessages, type PackedMessages } from "@tributary/loader";
import type { EnrichedFields } from "@tributary/schema";
import {
  CumulativeAcks,
  derivedSubject,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  EventHeader,
  ensureConsumer,
  eventKeyOf,
  JetStreamPipeline,
  loaderConsumerConfig,
} from "@tributary/streams";
import { resumeAtAckFloor } from "./resume.js";
import { StagePool } from "./stage-pool.js";
import { Outcome, type PreparedPart } from "./stage-part.js";

/** Publishes awaiting the enriched stream's acknowledgement at most; the next message waits for room. */
export const STAGE_MAX_IN_FLIGHT = 2_000;
const PUBLISH_TIMEOUT_MS = 10_000;
const NAK_DELAY_MS = 1_000;

export interface EnrichStageLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EnrichStageCounters {
  /** Events published to the enriched stream (duplicates the stream dropped included). */
  forwarded: number;
  /** Of those, events the stage could not map (forwarded as they are: the loader dead-letters them). */
  unmapped: number;
  /** `click.flagged` events derived. */
  derived: number;
  /** Publishes that failed: their events were handed back to the hub stream for later. */
  failures: number;
}

/** Clicks are what the suspicion rules judge: a click judged suspicious gets its `click.flagged`. */
function isClick(eventType: string): boolean {
  return eventType === "link.clicked" || eventType.startsWith("click.");
}

/** Hub messages prepared on a worker at once (fewer, larger tasks: a task's round trip is fixed). */
export const STAGE_BATCH = 256;

/** What prepares a batch of hub messages: the stage's worker pool (stage-pool.ts), or a function in a test. */
export interface BatchPreparer {
  prepare(packed: PackedMessages): Promise<PreparedPart>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ENRICHMENT_PREFIX = encoder.encode(`${EventHeader.Enrichment}: `);
const END_OF_HEADERS = encoder.encode("\r\n");

const json = (v: boolean | null) => (v === null ? "null" : v ? "true" : "false");

/**
 * The enrich stage: reads the hub stream in order (its own durable consumer), enriches each event
 * once — geo, user agent, referrer, the anonymised IP, the stateful verdicts (uniqueness, bursts)
 * and the payload's privacy — and publishes the result to the enriched stream: the body as stored
 * from then on, the enriched columns in `Tributary-Enrichment`, keyed by the event key (the
 * stream's duplicate window keeps the first verdicts of an event handled twice). A click judged
 * suspicious also yields a derived `click.flagged` event. The warehouse loader and every
 * destination read the enriched stream, so a row and a delivery of the same event carry the same
 * verdicts, and the raw body stays in the bounded regional and hub streams only.
 *
 * The work per event that needs no state (parse, validate, derive, reduce the body, the header
 * block) runs on worker threads, a batch at a time (stage-worker.ts); this thread settles the
 * verdicts that depend on every event seen before, batch after batch in stream order, completes
 * each enrichment header and publishes (pipelined). A hub message is acked once its enriched copy
 * is stored; a failed publish hands it back (nak) for a later try. Events the stage cannot map
 * (not JSON, headers that disagree with the subject) go on unchanged, and the loader dead-letters
 * them with its reason, as before there was a stage.
 */
export class EnrichStage {
  readonly counters: EnrichStageCounters = { forwarded: 0, unmapped: 0, derived: 0, failures: 0 };
  /** Messages taken and not yet settled (acked or handed back), and who waits for room. */
  #inFlight = 0;
  #onSettled: (() => void) | undefined;
  #lastFailureLog = 0;
  /** Batches are published in the order they were taken, whatever order the workers finish in. */
  #published: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      messages: ConsumerMessages;
      /** Pipelined publishes on the hub connection (one js.publish per event was a sixth of the rate). */
      publisher: JetStreamPipeline;
      /** Undefined with enrichment off: events go on as they came, without enriched columns. */
      enricher: Enricher | undefined;
      /** Prepares batches off this thread (with the enricher's stateless part when there is one). */
      preparer: BatchPreparer;
      /** The consumer acks cumulatively: a hub message is settled through these (default: acked on its own). */
      acks?: CumulativeAcks;
      log: EnrichStageLog;
    },
  ) {}

  async run(): Promise<void> {
    let batch: JsMsg[] = [];
    let flushing = false;
    const flush = () => {
      flushing = false;
      if (batch.length === 0) return;
      this.#dispatch(batch);
      batch = [];
    };
    const { acks } = this.opts;
    for await (const delivered of this.opts.messages) {
      const msg = acks ? acks.track(delivered) : delivered;
      // Waiting lets the flush below run: a partial batch counted in flight is dispatched meanwhile.
      while (this.#inFlight >= STAGE_MAX_IN_FLIGHT) await this.#settled();
      this.#inFlight++;
      batch.push(msg);
      if (batch.length >= STAGE_BATCH) flush();
      else if (!flushing) {
        flushing = true;
        // After the messages that arrived together: a burst fills a batch, a trickle is not held.
        setImmediate(flush);
      }
    }
    flush();
    await this.#published;
    while (this.#inFlight > 0) await this.#settled();
    acks?.close();
  }

  /** Resolves when the next message in flight settles (one waiter: the loop). */
  #settled(): Promise<void> {
    return new Promise((resolve) => (this.#onSettled = resolve));
  }

  #settle(): void {
    this.#inFlight--;
    const wake = this.#onSettled;
    this.#onSettled = undefined;
    wake?.();
  }

  /** Stops pulling; run() resolves once the messages in flight are answered. */
  stop(): void {
    this.opts.messages.stop();
  }

  #dispatch(msgs: JsMsg[]): void {
    const packed = packMessages(msgs);
    const prepared = this.opts.preparer.prepare(packed);
    // Swallowed here, seen in #publishBatch: the chain waits for the batch before it either way.
    prepared.catch(() => undefined);
    this.#published = this.#published.then(() =>
      prepared.then(
        (part) => this.#publishBatch(msgs, part),
        (err: unknown) => {
          for (const msg of msgs) this.#handBack(msg, err);
        },
      ),
    );
  }

  /** Settles each event's verdicts in stream order and publishes its enriched copy (and a derived one). */
  #publishBatch(msgs: readonly JsMsg[], part: PreparedPart): void {
    const bytes = new Uint8Array(part.bytes);
    for (let i = 0; i < msgs.length; i++) {
      const msg = msgs[i]!;
      const start = i === 0 ? 0 : part.ends[i * 3 - 1]!;
      const [headEnd, bodyEnd, enrichmentEnd] = part.ends.subarray(i * 3, i * 3 + 3) as unknown as [
        number,
        number,
        number,
      ];
      const head = bytes.subarray(start, headEnd);
      const body = bodyEnd > headEnd ? bytes.subarray(headEnd, bodyEnd) : msg.data;
      this.counters.forwarded++;
      const outcome = part.outcome[i];
      if (outcome !== Outcome.Enriched) {
        if (outcome === Outcome.Unmapped) this.counters.unmapped++;
        this.#forward(msg, [this.#publish(part.subjects[i]!, body, concat(head, END_OF_HEADERS))]);
        continue;
      }
      const firstHit = part.firstHit[i]!;
      const verdict = this.opts.enricher!.settle(part.keys[i]!, {
        uniqueKey: part.uniqueKey[i] ?? null,
        suspicion: firstHit < 0 ? null : { firstHit, burstKey: part.burstKey[i] ?? null },
      });
      const stateful = encoder.encode(
        `,"is_unique":${json(verdict.is_unique)},"is_suspicious":${json(verdict.is_suspicious)},"suspicious_reason":${JSON.stringify(verdict.suspicious_reason)}}\r\n\r\n`,
      );
      const enrichment = bytes.subarray(bodyEnd, enrichmentEnd);
      const headers = concat(head, ENRICHMENT_PREFIX, enrichment, stateful);
      const publishes = [this.#publish(part.subjects[i]!, body, headers)];
      const eventType = msg.headers?.get(EventHeader.EventType) ?? "";
      if (verdict.is_suspicious === true && isClick(eventType) && !msg.headers?.has(EventHeader.ReplayedFrom)) {
        const enriched = JSON.parse(
          `${decoder.decode(enrichment)}${decoder.decode(stateful).trimEnd()}`,
        ) as EnrichedFields;
        publishes.push(this.#publishFlagged(msg, part.keys[i]!, decoder.decode(body), enriched));
        this.counters.derived++;
      }
      this.#forward(msg, publishes);
    }
  }

  /** Acks the hub message once every message it became is stored; hands it back otherwise. */
  #forward(msg: JsMsg, publishes: Array<Promise<unknown>>): void {
    void Promise.all(publishes).then(
      () => {
        msg.ack();
        this.#settle();
      },
      (err: unknown) => this.#handBack(msg, err),
    );
  }

  #handBack(msg: JsMsg, err: unknown): void {
    this.counters.failures++;
    msg.nak(NAK_DELAY_MS);
    this.#settle();
    const now = Date.now();
    if (now - this.#lastFailureLog > 10_000) {
      this.#lastFailureLog = now;
      this.opts.log.warn({ err, seq: msg.seq }, "could not store enriched events; the hub stream keeps them for later");
    }
  }

  #publish(subject: string, body: Uint8Array, headers: Uint8Array): Promise<unknown> {
    return this.opts.publisher.publishEncoded(subject, body, headers);
  }

  /** `click.flagged`: the verdict and its reason, the enrichment, and the click as stored. */
  #publishFlagged(msg: JsMsg, key: string, payload: string, enriched: EnrichedFields): Promise<unknown> {
    const source = msg.headers?.get(EventHeader.Source) ?? "";
    const region = msg.headers?.get(EventHeader.Region) ?? "";
    const flaggedKey = `${source}:flagged:${key.slice(source.length + 1)}`;
    const body = JSON.stringify({
      type: "click.flagged",
      event_id: flaggedKey.slice(source.length + 1),
      occurred_at: new Date().toISOString(),
      data: { event_key: key, reason: enriched.suspicious_reason, enrichment: enriched, click: JSON.parse(payload) },
    });
    const headers = createHeaders();
    for (const name of [EventHeader.Source, EventHeader.Region, EventHeader.ReceivedAt, "traceparent", "tracestate"]) {
      const value = msg.headers?.get(name);
      if (value) headers.set(name, value);
    }
    headers.set(EventHeader.EventType, "click.flagged");
    headers.set(EventHeader.DerivedFrom, eventKeyOf(msg.headers) ?? key);
    headers.set(EventHeader.Enrichment, JSON.stringify(enriched));
    headers.set(EventHeader.MsgId, flaggedKey);
    headers.set("Nats-Expected-Stream", ENRICHED_STREAM);
    return this.#publish(
      `${ENRICHED_PUBLISH_PREFIX}.${derivedSubject(region, source, "click.flagged")}`,
      encoder.encode(body),
      (headers as MsgHdrsImpl).encode(),
    );
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The stage's durable consumer on the hub stream (created or updated) and the stage reading it. The
 * caller has waited for the hub stream to exist.
 */
export async function startEnrichStage(opts: {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  durable: string;
  maxAckPending: number;
  ackWaitMs: number;
  enricher: Enricher | undefined;
  /** The stage's worker threads (default defaultMappingWorkers()). */
  workers?: number;
  log: EnrichStageLog;
}): Promise<{ stage: EnrichStage; running: Promise<void> }> {
  const { js, jsm, stream, durable } = opts;
  await ensureConsumer(
    jsm,
    stream,
    loaderConsumerConfig({
      durable,
      maxAckPending: opts.maxAckPending,
      ackWaitMs: opts.ackWaitMs,
      acks: "cumulative",
    }),
  );
  await resumeAtAckFloor(jsm, stream, durable, opts.log);
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: Math.min(STAGE_MAX_IN_FLIGHT, opts.maxAckPending) });
  const publisher = new JetStreamPipeline(opts.nc, { timeoutMs: PUBLISH_TIMEOUT_MS });
  const pool = new StagePool({ enricher: opts.enricher, ...(opts.workers ? { workers: opts.workers } : {}) });
  const stage = new EnrichStage({
    messages,
    publisher,
    enricher: opts.enricher,
    preparer: pool,
    acks: new CumulativeAcks(),
    log: opts.log,
  });
  opts.log.info(
    { stream, durable, enrichment: opts.enricher !== undefined, workers: pool.workers },
    "enrich stage reading the hub stream",
  );
  return {
    stage,
    running: stage.run().finally(async () => {
      publisher.close();
      await pool.close();
    }),
  };
}

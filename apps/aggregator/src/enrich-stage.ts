import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { headers as createHeaders, type MsgHdrs, type MsgHdrsImpl, type NatsConnection } from "@nats-io/nats-core";
import type { Enricher } from "@tributary/enrich";
import { mapMessage } from "@tributary/loader";
import type { EnrichedFields } from "@tributary/schema";
import {
  derivedSubject,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  enrichedSubject,
  EventHeader,
  ensureConsumer,
  eventKeyOf,
  JetStreamPipeline,
  loaderConsumerConfig,
  regionSeqOf,
} from "@tributary/streams";

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

/** The headers of a hub message that the enriched one keeps: all but the server's own. */
function copyHeaders(from: MsgHdrs | undefined): MsgHdrs {
  const out = createHeaders();
  if (!from) return out;
  for (const name of from.keys()) {
    // Nats-Msg-Id goes in as the publish's msgID; the sourcing header names the hub's source.
    if (name === EventHeader.MsgId || name.startsWith("Nats-")) continue;
    for (const value of from.values(name)) out.append(name, value);
  }
  return out;
}

/** Clicks are what the suspicion rules judge: a click judged suspicious gets its `click.flagged`. */
function isClick(eventType: string): boolean {
  return eventType === "link.clicked" || eventType.startsWith("click.");
}

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
 * A hub message is acked once its enriched copy is stored; a failed publish hands it back (nak)
 * for a later try. Events the stage cannot map (not JSON, headers that disagree with the subject)
 * go on unchanged, and the loader dead-letters them with its reason, as before there was a stage.
 */
export class EnrichStage {
  readonly counters: EnrichStageCounters = { forwarded: 0, unmapped: 0, derived: 0, failures: 0 };
  /** Publishes awaiting their acknowledgement, and who waits for one to end (room, or the last). */
  #inFlight = 0;
  #onSettled: (() => void) | undefined;
  #lastFailureLog = 0;

  constructor(
    private readonly opts: {
      messages: ConsumerMessages;
      /** Pipelined publishes on the hub connection (one js.publish per event was a sixth of the rate). */
      publisher: JetStreamPipeline;
      /** Undefined with enrichment off: events go on as they came, without enriched columns. */
      enricher: Enricher | undefined;
      log: EnrichStageLog;
    },
  ) {}

  async run(): Promise<void> {
    for await (const msg of this.opts.messages) {
      while (this.#inFlight >= STAGE_MAX_IN_FLIGHT) await this.#settled();
      this.#inFlight++;
      void this.#forward(msg).finally(() => {
        this.#inFlight--;
        const wake = this.#onSettled;
        this.#onSettled = undefined;
        wake?.();
      });
    }
    while (this.#inFlight > 0) await this.#settled();
  }

  /** Resolves when the next publish in flight settles (a counter and one waiter: the loop is the only one waiting). */
  #settled(): Promise<void> {
    return new Promise((resolve) => (this.#onSettled = resolve));
  }

  /** Stops pulling; run() resolves once the publishes in flight are answered. */
  stop(): void {
    this.opts.messages.stop();
  }

  async #forward(msg: JsMsg): Promise<void> {
    const out = this.#enrich(msg);
    try {
      await Promise.all(out.map((m) => this.#publish(m)));
      msg.ack();
    } catch (err) {
      this.counters.failures++;
      msg.nak(NAK_DELAY_MS);
      const now = Date.now();
      if (now - this.#lastFailureLog > 10_000) {
        this.#lastFailureLog = now;
        this.opts.log.warn(
          { err, seq: msg.seq },
          "could not store enriched events; the hub stream keeps them for later",
        );
      }
    }
  }

  #publish(m: { subject: string; data: Uint8Array; headers: MsgHdrs; msgID?: string }): Promise<unknown> {
    if (m.msgID) m.headers.set(EventHeader.MsgId, m.msgID);
    m.headers.set("Nats-Expected-Stream", ENRICHED_STREAM);
    return this.opts.publisher.publishEncoded(
      `${ENRICHED_PUBLISH_PREFIX}.${m.subject}`,
      m.data,
      (m.headers as MsgHdrsImpl).encode(),
    );
  }

  /** The messages one hub message becomes: its enriched copy, and a derived event when there is one. */
  #enrich(msg: JsMsg): Array<{ subject: string; data: Uint8Array; headers: MsgHdrs; msgID?: string }> {
    const headers = copyHeaders(msg.headers);
    headers.set(EventHeader.RegionSeq, String(regionSeqOf(msg)));
    // A replay's own key header is Tributary-Original-Msg-Id: no msgID, the stream must not drop it.
    const msgID = msg.headers?.get(EventHeader.MsgId) || undefined;
    const subject = enrichedSubject(msg.subject);
    const enricher = this.opts.enricher;
    // A DLQ replay of an enriched event carries its verdicts already: they stay.
    const mapped = enricher && !msg.headers?.has(EventHeader.Enrichment) ? mapMessage(msg) : undefined;
    this.counters.forwarded++;
    if (!mapped || !mapped.ok) {
      if (mapped) this.counters.unmapped++;
      return [{ subject, data: msg.data, headers, ...(msgID ? { msgID } : {}) }];
    }
    let row;
    try {
      row = enricher!.enrich(mapped.row, mapped.body);
    } catch {
      // A bug, not an event's content: forwarded as it is, the loader's own enrichment check decides.
      this.counters.unmapped++;
      return [{ subject, data: msg.data, headers, ...(msgID ? { msgID } : {}) }];
    }
    headers.set(EventHeader.Enrichment, JSON.stringify(row.enriched));
    const out = [{ subject, data: Buffer.from(row.payload, "utf8"), headers, ...(msgID ? { msgID } : {}) }];
    const eventType = msg.headers?.get(EventHeader.EventType) ?? "";
    if (row.enriched?.is_suspicious === true && isClick(eventType) && !msg.headers?.has(EventHeader.ReplayedFrom)) {
      out.push(this.#flagged(msg, row.event_key, row.source, row.region, row.payload, row.enriched));
      this.counters.derived++;
    }
    return out;
  }

  /** `click.flagged`: the verdict and its reason, the enrichment, and the click as stored. */
  #flagged(msg: JsMsg, key: string, source: string, region: string, payload: string, enriched: EnrichedFields) {
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
    return {
      subject: derivedSubject(region, source, "click.flagged"),
      data: Buffer.from(body, "utf8"),
      headers,
      msgID: flaggedKey,
    };
  }
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
  log: EnrichStageLog;
}): Promise<{ stage: EnrichStage; running: Promise<void> }> {
  const { js, jsm, stream, durable } = opts;
  await ensureConsumer(
    jsm,
    stream,
    loaderConsumerConfig({ durable, maxAckPending: opts.maxAckPending, ackWaitMs: opts.ackWaitMs }),
  );
  const consumer = await js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: Math.min(STAGE_MAX_IN_FLIGHT, opts.maxAckPending) });
  const publisher = new JetStreamPipeline(opts.nc, { timeoutMs: PUBLISH_TIMEOUT_MS });
  const stage = new EnrichStage({ messages, publisher, enricher: opts.enricher, log: opts.log });
  opts.log.info({ stream, durable, enrichment: opts.enricher !== undefined }, "enrich stage reading the hub stream");
  return { stage, running: stage.run().finally(() => publisher.close()) };
}

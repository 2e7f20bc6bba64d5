import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { deadLetterDelivery, deliveryLogSubject, EventHeader, type DeliveryDeadLetter } from "@tributary/streams";
import { signStandardWebhooks, type SigningKey } from "@tributary/verify";
import { AddressPolicy, AddressRefusedError } from "./address-policy.js";
import { classifyStatus, retryDelayMs } from "./backoff.js";
import { DestinationBreaker, formatMs, type BreakerPermit, type BreakerTransition } from "./breaker.js";
import { RESPONSE_SNIPPET_BYTES, type DestinationConfig } from "./config.js";
import { ConfigError } from "@tributary/errors";
import { RetryableDeliveryError, type DeliveryFailureCode } from "./errors.js";
import { eventFromMessage, routes, withEnrichment, type DeliveryEvent } from "./event.js";
import { TokenBucket } from "./rate-limit.js";
import { emptyStats, type AttemptRecord, type DestinationStats } from "./records.js";
import { DestinationSender, type SendResult } from "./sender.js";
import { Sandbox } from "./sandbox/host.js";
import { scrubDetail } from "./scrub.js";

/** The little a deliverer logs; pino, Fastify's logger or console fit. */
export interface DeliveryLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Where telemetry attaches (the delivery span): called before each HTTP request with the headers
 * about to be sent (set `traceparent` there to link the destination to the delivery span); the
 * returned function, if any, is called with the attempt's record when it ends.
 */
export type AttemptStartHook = (ctx: {
  destination: string;
  event: DeliveryEvent;
  attempt: number;
  headers: Record<string, string>;
}) => ((record: AttemptRecord) => void) | void;

export interface DelivererOptions {
  config: DestinationConfig;
  js: JetStreamClient;
  /** The destination's durable consumer on EVENTS, and optionally its replay consumer. */
  consumers: Consumer[];
  /** Decoded `signing.secrets` (empty when signing.type is "none"). */
  signingKeys: SigningKey[];
  /** The consumers' ack_wait: events in hand get an in-progress ack well before it runs out. */
  ackWaitMs: number;
  log: DeliveryLog;
  /** Every attempt record (also published to the delivery log unless recordAttempts is false). */
  onAttempt?: (record: AttemptRecord, event: DeliveryEvent | undefined) => void;
  onAttemptStart?: AttemptStartHook;
  /** Publish each record on `deliveries.{destination}` (the DELIVERIES stream must exist). Default true. */
  recordAttempts?: boolean;
  /** How long one pull waits for messages, ms (default 1000; the server's floor). */
  fetchExpiresMs?: number;
  /** Clock for signatures (Unix seconds), for tests. */
  nowSeconds?: () => number;
  /**
   * Every change of the destination's state: each breaker transition (`open`, `half_open`,
   * `closed`), and `paused` / `resumed` (by `breaker.pauseAfterMs`, or by pause() and resume()).
   * Where the app publishes an operator event and a metric, and persists `paused` (a restarted
   * deliverer is paused again by calling pause() before run()). Called synchronously; a throw is
   * logged and ignored.
   */
  onStateChange?: (change: DestinationStateChange) => void;
}

/** What a destination's state became; `half_open` is the breaker's `half-open`. */
export type DestinationState = "open" | "half_open" | "closed" | "paused" | "resumed";

export interface DestinationStateChange {
  destination: string;
  state: DestinationState;
  /** Why, for an operator: the breaker's rule that fired and the last failure, or the reason given to pause(). */
  reason: string;
  /** ISO time of the change. */
  at: string;
  /** True when the deliverer decided it (the breaker, `pauseAfterMs`); false for a pause() or resume() call. */
  automatic: boolean;
}

const USER_AGENT = "Tributary-Delivery/0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Deliveries on which a filter or transform may run past its CPU time before the event is
 * dead-lettered (`filter_timeout`, `transform_timeout`): the limits count CPU time, yet a stalled
 * machine or a GC can still push one run over, which is not the event's fault.
 */
export const SANDBOX_TIMEOUT_ATTEMPTS = 3;

/**
 * Events whose outcome is final (dead-lettered) but whose DLQ write failed, remembered at most this
 * many per destination: each is nak'ed and, when it comes back, only its DLQ write is tried again.
 * Beyond the bound (or after a restart) such an event is handled afresh, one more request at worst.
 */
const MAX_UNWRITTEN_LETTERS = 10_000;

/** A dead letter waiting for its DLQ write, with the tries so far. */
interface UnwrittenLetter {
  event: DeliveryEvent | undefined;
  letter: DeliveryDeadLetter;
  tries: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** One consumer's request slots: events in hand plus those a pull in progress may still bring. */
interface Slots {
  size: number;
  inFlight: number;
  reserved: number;
  waiters: Array<() => void>;
}

function wake(slots: Slots): void {
  for (const resolve of slots.waiters.splice(0)) resolve();
}

/**
 * Delivers one destination's events: pull (only as many as there are free request slots, so the
 * backlog waits in the stream) ▸ route ▸ filter ▸ transform ▸ rate limit ▸ signed POST behind the
 * destination's circuit breaker ▸ ack / nak with backoff / DLQ. Attempts are the stream's delivery
 * count. While the breaker is open no request is made: the events in hand are held (in-progress
 * acks, so their delivery count does not grow) and no more are pulled; the breaker's probe decides.
 * Paused (pause(), or the breaker open for `breaker.pauseAfterMs`), nothing is pulled and no
 * request is made, not even a probe: events in hand are held the same way until resume().
 * Each destination has its own deliverer, pool, breaker and consumer, so a slow one never slows
 * another or the warehouse loader.
 */
export class Deliverer {
  readonly stats: DestinationStats = emptyStats();
  readonly name: string;
  readonly #opts: DelivererOptions;
  readonly #sender: DestinationSender;
  readonly #breaker: DestinationBreaker;
  readonly #sandbox: Sandbox | undefined;
  readonly #bucket: TokenBucket | undefined;
  readonly #fetches = new Set<ConsumerMessages>();
  readonly #logWrites = new Set<Promise<unknown>>();
  readonly #stop = new AbortController();
  readonly #unwritten = new Map<string, UnwrittenLetter>();
  #idleWaiters: Array<() => void> = [];
  #paused = false;
  #resumeWaiters: Array<() => void> = [];
  #pauseTimer: NodeJS.Timeout | undefined;
  #openedBecause = "";

  private constructor(opts: DelivererOptions, sandbox: Sandbox | undefined, policy: AddressPolicy) {
    const { config } = opts;
    this.#opts = opts;
    this.name = config.name;
    this.#sandbox = sandbox;
    this.#sender = new DestinationSender(config.url, config.timeoutMs, config.maxInFlight, policy);
    this.#breaker = new DestinationBreaker(config.breaker);
    this.#breaker.onTransition((t) => this.#breakerMoved(t));
    this.#bucket = config.rateLimit
      ? new TokenBucket(
          config.rateLimit.perSecond,
          config.rateLimit.burst ?? Math.max(1, Math.ceil(config.rateLimit.perSecond)),
        )
      : undefined;
  }

  /** Compiles the filter and loads the transform (config errors name `field`, e.g. destinations[0]). */
  static async create(opts: DelivererOptions, field = "destination"): Promise<Deliverer> {
    const { config } = opts;
    if (config.signing.type === "standard-webhooks" && opts.signingKeys.length === 0) {
      throw new ConfigError(
        `${field}.signing.secrets`,
        "is empty but signing.type is standard-webhooks",
        'add a whsec_ secret, or set signing.type to "none"',
      );
    }
    const policy = AddressPolicy.create(config.allowPrivate, `${field}.allowPrivate`);
    policy.checkUrl(config.url, `${field}.url`);
    // The filter and the transform run on a worker thread of the destination's own (sandbox/).
    const sandbox =
      config.filter || config.transform
        ? await Sandbox.create({
            field,
            ...(config.filter ? { filter: config.filter } : {}),
            ...(config.transform ? { transform: config.transform } : {}),
            filterCpuMs: config.sandbox.filterTimeoutMs,
            transformCpuMs: config.sandbox.timeoutMs,
            memoryBytes: config.sandbox.memoryBytes,
          })
        : undefined;
    return new Deliverer(opts, sandbox, policy);
  }

  readonly #slots: Slots[] = [];

  /** Runs until stop(); resolves once every event in hand is settled. */
  async run(): Promise<void> {
    // Each consumer has its own request slots: the hub consumer maxInFlight, a replay consumer a
    // quarter of that more (so a replay neither waits for the live stream nor holds it back, and an
    // idle replay never sits on slots). In hand at most maxInFlight × 1.25 while a replay runs.
    const max = this.#opts.config.maxInFlight;
    await Promise.all(
      this.#opts.consumers.map((c, i) => {
        const slots: Slots = {
          size: i === 0 ? max : Math.max(1, Math.floor(max / 4)),
          inFlight: 0,
          reserved: 0,
          waiters: [],
        };
        this.#slots.push(slots);
        return this.#pump(c, slots, i > 0);
      }),
    );
    while (this.stats.inFlight > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    await Promise.all(this.#logWrites);
  }

  /** Stops pulling; events held for the breaker (or the pause) are handed back, requests in flight finish. */
  stop(): void {
    this.#stop.abort();
    clearTimeout(this.#pauseTimer);
    for (const f of this.#fetches) f.stop();
    this.#wakeAll();
  }

  /**
   * Stops pulling and sending: the backlog stays in the stream, requests in flight finish, events
   * already in hand are held (in-progress acks: neither acked nor nak'ed, their delivery count
   * unchanged) until resume(). Also before run(), to start paused. False when paused already.
   */
  pause(reason: string): boolean {
    return this.#pause(reason, false);
  }

  /**
   * Goes on where pause() stopped. An open breaker probes at once (with its first wait again should
   * the probe fail), and `pauseAfterMs` counts from now. False when not paused.
   */
  resume(reason = "resumed"): boolean {
    if (!this.#paused) return false;
    this.#paused = false;
    Object.assign(this.stats, { paused: false, pausedReason: "", pausedAt: "" });
    if (this.#breaker.state !== "closed") {
      this.#breaker.probeSoon();
      this.#armPause();
    }
    this.#opts.log.info({ destination: this.name, reason }, "destination resumed");
    this.#wakeAll();
    this.#changed("resumed", reason, false);
    return true;
  }

  get paused(): boolean {
    return this.#paused;
  }

  #pause(reason: string, automatic: boolean): boolean {
    if (this.#paused) return false;
    this.#paused = true;
    clearTimeout(this.#pauseTimer);
    this.stats.pauses++;
    Object.assign(this.stats, { paused: true, pausedReason: reason, pausedAt: new Date().toISOString() });
    this.#opts.log.warn({ destination: this.name, reason, automatic }, "destination paused: deliveries held");
    this.#changed("paused", reason, automatic);
    return true;
  }

  /** `breaker.pauseAfterMs` from now, unless 0 or paused already. */
  #armPause(): void {
    clearTimeout(this.#pauseTimer);
    const after = this.#opts.config.breaker.pauseAfterMs;
    if (!after || this.#paused || this.#stop.signal.aborted) return;
    this.#pauseTimer = setTimeout(() => {
      if (this.#breaker.state === "closed") return;
      const state = this.#breaker.state;
      this.#pause(`failing for ${formatMs(after)} (circuit ${state}; opened on: ${this.#openedBecause})`, true);
    }, after);
    this.#pauseTimer.unref();
  }

  #breakerMoved(t: BreakerTransition): void {
    const context = { destination: this.name, reason: t.reason };
    if (t.to === "open") {
      this.stats.breakerOpens++;
      if (t.from === "closed") {
        this.#openedBecause = t.reason;
        this.#opts.log.warn(context, "destination failing: circuit open, deliveries held");
        this.#armPause();
      }
    } else if (t.to === "closed") {
      clearTimeout(this.#pauseTimer);
      this.#opts.log.info(context, "destination recovered: circuit closed");
    }
    this.#changed(t.to === "half-open" ? "half_open" : t.to, t.reason, true);
  }

  #changed(state: DestinationState, reason: string, automatic: boolean): void {
    const change = { destination: this.name, state, reason, at: new Date().toISOString(), automatic };
    try {
      this.#opts.onStateChange?.(change);
    } catch (err) {
      this.#opts.log.error({ err, destination: this.name, state }, "onStateChange failed");
    }
  }

  #wakeAll(): void {
    for (const slots of this.#slots) wake(slots);
    for (const resolve of this.#resumeWaiters.splice(0)) resolve();
  }

  async close(): Promise<void> {
    await this.#sender.close();
    await this.#sandbox?.close();
  }

  get breakerState(): DestinationStats["breakerState"] {
    return this.#breaker.state;
  }

  snapshot(): DestinationStats {
    return {
      ...this.stats,
      breakerState: this.breakerState,
      breakerWindow: this.#breaker.window,
      latencyMs: { ...this.stats.latencyMs },
    };
  }

  async #pump(consumer: Consumer, slots: Slots, onDemand: boolean): Promise<void> {
    // Pull in chunks of at least a quarter of the slots: one-message pulls would cost a round trip each.
    const minChunk = Math.max(1, Math.floor(slots.size / 4));
    const free = () => slots.size - slots.inFlight - slots.reserved;
    while (!this.#stop.signal.aborted) {
      while (!this.#stop.signal.aborted && (this.#paused || free() < minChunk)) {
        await new Promise<void>((resolve) => slots.waiters.push(resolve));
      }
      if (this.#stop.signal.aborted) break;
      if (onDemand && !(await this.#hasWork(consumer))) {
        // An idle replay consumer: look again later rather than wait in a pull.
        await sleep(this.#opts.fetchExpiresMs ?? 1_000);
        continue;
      }
      const want = free();
      slots.reserved += want;
      let received = 0;
      try {
        const messages = await consumer.fetch({ max_messages: want, expires: this.#opts.fetchExpiresMs ?? 1_000 });
        this.#fetches.add(messages);
        try {
          for await (const msg of messages) {
            received++;
            slots.reserved--;
            this.#start(msg, slots);
          }
        } finally {
          this.#fetches.delete(messages);
        }
      } catch (err) {
        if (!this.#stop.signal.aborted) {
          this.#opts.log.warn({ err, destination: this.name }, "pull failed; retrying");
          await sleep(500);
        }
      } finally {
        slots.reserved -= want - received;
      }
    }
  }

  /** Whether a consumer has anything to deliver (new, or waiting for redelivery); true when unsure. */
  async #hasWork(consumer: Consumer): Promise<boolean> {
    try {
      const info = await consumer.info(false);
      return info.num_pending > 0 || info.num_ack_pending > 0;
    } catch {
      return true;
    }
  }

  #start(msg: JsMsg, slots: Slots): void {
    slots.inFlight++;
    this.stats.inFlight++;
    this.stats.pulled++;
    this.#handle(msg)
      .catch((err: unknown) => {
        this.#opts.log.error(
          { err, destination: this.name },
          "unexpected delivery error; the event will be redelivered",
        );
        msg.nak(1_000);
      })
      .finally(() => {
        slots.inFlight--;
        this.stats.inFlight--;
        wake(slots);
        if (this.stats.inFlight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
      });
  }

  async #handle(msg: JsMsg): Promise<void> {
    // Its outcome is final already, only its DLQ write failed: write it, never ask the destination again.
    const unwritten = this.#unwritten.get(letterKey(msg));
    if (unwritten) return this.#writeDeadLetter(msg, unwritten);
    const attempt = msg.info.deliveryCount;
    const event = eventFromMessage(msg.headers, msg.data);
    if (!event)
      return this.#deadLetter(
        msg,
        undefined,
        attempt,
        "missing_headers",
        `no ${EventHeader.MsgId} or ${EventHeader.Source} header`,
      );
    if (!routes(this.#opts.config, event)) return this.#skip(msg);
    const keepAlive = setInterval(() => msg.working(), Math.max(500, Math.floor(this.#opts.ackWaitMs / 3)));
    keepAlive.unref();
    try {
      const body = await this.#prepare(msg, event, attempt);
      if (body === undefined) return; // filtered out or dead-lettered already
      await this.#bucket?.take(this.#stop.signal);
      await this.#send(msg, event, body, attempt);
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Not for this destination (its routes, filter or transform said so): acked, counted. */
  #skip(msg: JsMsg): void {
    this.stats.filtered++;
    msg.ack();
  }

  /**
   * The body to send once the filter and the transform have run, or undefined when the message is
   * settled already: filtered out (acked) or unusable for them (dead-lettered).
   */
  async #prepare(msg: JsMsg, event: DeliveryEvent, attempt: number): Promise<Uint8Array | undefined> {
    const shown = this.#opts.config.enriched ? { ...event, body: withEnrichment(event) } : event;
    if (!this.#sandbox) return shown.body;
    const outcome = await this.#sandbox.run(shown);
    this.stats.sandboxRestarts = this.#sandbox.restarts;
    switch (outcome.kind) {
      case "send":
        return outcome.body === undefined ? shown.body : encoder.encode(outcome.body);
      case "skip":
        this.#skip(msg);
        return undefined;
      case "failed":
        if (outcome.code === "filter_failed") this.stats.filterFailures++;
        else if (outcome.code !== "invalid_json") this.stats.transformFailures++;
        await this.#deadLetter(msg, event, attempt, outcome.code, outcome.detail);
        return undefined;
      case "timeout": {
        const { retry } = this.#opts.config;
        if (attempt >= Math.min(SANDBOX_TIMEOUT_ATTEMPTS, retry.maxAttempts)) {
          if (outcome.code === "filter_timeout") this.stats.filterFailures++;
          else this.stats.transformFailures++;
          await this.#deadLetter(msg, event, attempt, outcome.code, `${outcome.detail} (${attempt} deliveries)`);
        } else {
          this.stats.sandboxTimeouts++;
          this.#record(event, attempt, "retry", 0, 0, `${outcome.code}: ${outcome.detail}`);
          msg.nak(retryDelayMs(attempt, retry, undefined));
        }
        return undefined;
      }
      case "unavailable":
        // Not the event's fault (the worker is being replaced): again soon, without spending an attempt's DLQ.
        this.#opts.log.warn(
          { destination: this.name, eventKey: event.key, detail: outcome.detail },
          "sandbox unavailable",
        );
        msg.nak(1_000);
        return undefined;
    }
  }

  /**
   * Sends until the answer settles the message: delivered (ack), rejected (DLQ), retryable (nak
   * with backoff, or DLQ when the attempts are spent). While the breaker is open, or the deliverer
   * paused, no request is made: the event is held (its delivery count stays) and looked at again
   * soon, or on resume().
   */
  async #send(msg: JsMsg, event: DeliveryEvent, body: Uint8Array, attempt: number): Promise<void> {
    let held = false;
    for (;;) {
      if (this.#stop.signal.aborted && held) {
        msg.nak(); // stopping while the breaker holds it: back to the stream for the next run
        return;
      }
      const permit = this.#paused ? undefined : this.#breaker.acquire();
      if (!permit) {
        if (!held && !this.#paused) this.stats.breakerHeld++;
        held = true;
        await this.#hold();
        continue;
      }
      let result: SendResult;
      try {
        result = await this.#attempt(event, body, attempt);
      } catch (err) {
        return this.#attemptFailed(msg, event, body, attempt, permit, err);
      }
      this.#breaker.succeeded(permit, `HTTP ${result.status}`);
      if (classifyStatus(result.status) === "delivered") {
        this.stats.delivered++;
        this.#record(event, attempt, "delivered", result.status, result.latencyMs, "");
        msg.ack();
        return;
      }
      this.stats.rejected++;
      this.#record(event, attempt, "dlq", result.status, result.latencyMs, `rejected: HTTP ${result.status}`);
      return this.#deadLetter(
        msg,
        event,
        attempt,
        "rejected",
        `HTTP ${result.status}`,
        result.status,
        this.#scrubbed(result.snippet, event, body),
        false,
      );
    }
  }

  /** Until a held event is looked at again: the breaker's next look, or the end of a pause. */
  async #hold(): Promise<void> {
    if (this.#paused && !this.#stop.signal.aborted) {
      await new Promise<void>((resolve) => this.#resumeWaiters.push(resolve));
      return;
    }
    await sleep(Math.min(250, Math.max(20, Math.floor(this.#opts.config.breaker.halfOpenAfterMs / 4))));
  }

  /** An attempt that threw: a retryable failure counts in the breaker; a refused address is policy, not health. */
  async #attemptFailed(
    msg: JsMsg,
    event: DeliveryEvent,
    body: Uint8Array,
    attempt: number,
    permit: BreakerPermit,
    err: unknown,
  ): Promise<void> {
    if (err instanceof RetryableDeliveryError) {
      this.#breaker.failed(permit, err.responseStatus === 0 ? "no_answer" : "answer", err.message);
      return this.#retryLater(msg, event, body, attempt, err);
    }
    this.#breaker.released(permit);
    if (err instanceof AddressRefusedError) {
      // No request was made, and the same address would be refused again.
      this.stats.addressRefused++;
      return this.#deadLetter(msg, event, attempt, "address_refused", err.message);
    }
    throw err;
  }

  /** A retryable failure: back to the stream after the backoff, or to the DLQ once the attempts are spent. */
  async #retryLater(
    msg: JsMsg,
    event: DeliveryEvent,
    body: Uint8Array,
    attempt: number,
    err: RetryableDeliveryError,
  ): Promise<void> {
    const { config } = this.#opts;
    const detail = `${err.responseStatus ? `HTTP ${err.responseStatus}` : err.message}`;
    if (attempt >= config.retry.maxAttempts) {
      this.stats.exhausted++;
      this.#record(event, attempt, "dlq", err.responseStatus, err.latencyMs, `attempts_exhausted: ${detail}`);
      return this.#deadLetter(
        msg,
        event,
        attempt,
        "attempts_exhausted",
        `${attempt} attempts, last: ${detail}`,
        err.responseStatus,
        this.#scrubbed(err.responseSnippet, event, body),
        false,
      );
    }
    const delay = retryDelayMs(attempt, config.retry, err.retryAfterMs);
    this.stats.retried++;
    this.#record(event, attempt, "retry", err.responseStatus, err.latencyMs, `retry: ${detail}`);
    msg.nak(delay);
  }

  /** One HTTP request. Resolves with a delivered or rejected answer; throws RetryableDeliveryError to count in the breaker. */
  async #attempt(event: DeliveryEvent, body: Uint8Array, attempt: number): Promise<SendResult> {
    const { config } = this.#opts;
    const headers: Record<string, string> = {
      ...config.headers,
      "content-type": "application/json",
      "user-agent": USER_AGENT,
      "idempotency-key": event.key,
      "webhook-id": event.key,
      "tributary-source": event.source,
      "tributary-event-type": event.type,
      "tributary-region": event.region,
      "tributary-received-at": event.receivedAt,
      "tributary-attempt": String(attempt),
    };
    if (event.traceparent) headers.traceparent = event.traceparent;
    if (event.tracestate) headers.tracestate = event.tracestate;
    const end = this.#opts.onAttemptStart?.({ destination: this.name, event, attempt, headers });
    if (config.signing.type === "standard-webhooks") {
      const nowSeconds = this.#opts.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
      Object.assign(
        headers,
        signStandardWebhooks({ id: event.key, timestampSeconds: nowSeconds, body }, this.#opts.signingKeys),
      );
    }
    this.stats.attempts++;
    const started = performance.now();
    let result: SendResult;
    try {
      result = await this.#sender.send(body, headers);
    } catch (err) {
      const latencyMs = performance.now() - started;
      if (err instanceof AddressRefusedError) {
        end?.(this.#recordOf(event, attempt, "dlq", 0, latencyMs, `address_refused: ${err.message}`));
        throw err;
      }
      this.#latency(latencyMs);
      const e = err as { name?: string; code?: string; message?: string };
      const reason =
        e.name === "TimeoutError" || e.code === "UND_ERR_HEADERS_TIMEOUT" || e.code === "UND_ERR_BODY_TIMEOUT"
          ? `timeout after ${config.timeoutMs} ms`
          : `${e.code ?? e.name ?? "error"}: ${e.message ?? String(err)}`;
      end?.({ ...this.#recordOf(event, attempt, "retry", 0, latencyMs, reason) });
      throw new RetryableDeliveryError(reason, 0, undefined, "", latencyMs, { cause: err });
    }
    this.#latency(result.latencyMs);
    const kind = classifyStatus(result.status);
    end?.(
      this.#recordOf(
        event,
        attempt,
        kind === "delivered" ? "delivered" : kind === "retry" ? "retry" : "dlq",
        result.status,
        result.latencyMs,
        kind === "delivered" ? "" : `HTTP ${result.status}`,
      ),
    );
    if (kind === "retry")
      throw new RetryableDeliveryError(
        `HTTP ${result.status}`,
        result.status,
        result.retryAfterMs,
        result.snippet,
        result.latencyMs,
      );
    return result;
  }

  /**
   * A destination's answer as the DLQ keeps it: destinations echo what they were sent, so stretches
   * of the event's body (as received, and as sent after a transform) are cut to a snippet (scrub.ts).
   */
  #scrubbed(snippet: string, event: DeliveryEvent, sent: Uint8Array): string {
    if (!snippet) return snippet;
    const bodies = [decoder.decode(event.body)];
    if (sent !== event.body) bodies.push(decoder.decode(sent));
    return scrubDetail(snippet, bodies, RESPONSE_SNIPPET_BYTES);
  }

  #latency(ms: number): void {
    const l = this.stats.latencyMs;
    l.count++;
    l.sum += ms;
    if (ms > l.max) l.max = ms;
  }

  #recordOf(
    event: DeliveryEvent | undefined,
    attempt: number,
    outcome: AttemptRecord["outcome"],
    status: number,
    latencyMs: number,
    error: string,
  ): AttemptRecord {
    return {
      destination: this.name,
      event_key: event?.key ?? "",
      attempt,
      outcome,
      status,
      latency_ms: Math.round(latencyMs * 100) / 100,
      error,
      at: new Date().toISOString(),
    };
  }

  #record(
    event: DeliveryEvent | undefined,
    attempt: number,
    outcome: AttemptRecord["outcome"],
    status: number,
    latencyMs: number,
    error: string,
  ): void {
    const record = this.#recordOf(event, attempt, outcome, status, latencyMs, error);
    this.#opts.onAttempt?.(record, event);
    if (this.#opts.recordAttempts === false) return;
    const write = this.#opts.js
      .publish(deliveryLogSubject(this.name), encoder.encode(JSON.stringify(record)))
      .catch(() => {
        this.stats.logFailures++;
      })
      .finally(() => this.#logWrites.delete(write));
    this.#logWrites.add(write);
  }

  async #deadLetter(
    msg: JsMsg,
    event: DeliveryEvent | undefined,
    attempt: number,
    code: DeliveryFailureCode,
    detail: string,
    status = 0,
    response = "",
    record = true,
  ): Promise<void> {
    const reason = `${code}: ${detail}`;
    if (record) this.#record(event, attempt, "dlq", status, 0, reason);
    const letter = { destination: this.name, reason, status, attempts: attempt, response };
    await this.#writeDeadLetter(msg, { event, letter, tries: 0 });
  }

  /**
   * The DLQ write of a final outcome. A failed write naks the event with backoff and remembers the
   * letter, so when the event comes back only the write is tried again; after DLQ_WRITE_ATTEMPTS
   * failed writes the event is given up (terminated) and counted in `dlqAbandoned`.
   */
  async #writeDeadLetter(msg: JsMsg, unwritten: UnwrittenLetter): Promise<void> {
    const key = letterKey(msg);
    const { event, letter } = unwritten;
    unwritten.tries++;
    const outcome = await deadLetterDelivery(this.#opts.js, msg, letter, unwritten.tries);
    const context = { destination: this.name, eventKey: event?.key, reason: letter.reason, tries: unwritten.tries };
    if (outcome === "retrying") {
      this.stats.dlqWriteFailures++;
      this.#unwritten.delete(key); // re-inserted: the map's order is the order of the last failure
      if (this.#unwritten.size >= MAX_UNWRITTEN_LETTERS) this.#unwritten.delete(this.#unwritten.keys().next().value!);
      this.#unwritten.set(key, unwritten);
      this.#opts.log.error(context, "could not write to the delivery DLQ; the write is tried again later");
      return;
    }
    this.#unwritten.delete(key);
    if (outcome === "stored") {
      this.stats.dlq++;
      this.#opts.log.warn(context, "event moved to the destination's DLQ");
    } else {
      this.stats.dlqWriteFailures++;
      this.stats.dlqAbandoned++;
      this.#opts.log.error(
        context,
        "the delivery DLQ refused this event every time: given up (its bytes stay in the hub stream for a range replay)",
      );
    }
  }
}

/** One stream message, across its redeliveries. */
function letterKey(msg: JsMsg): string {
  return `${msg.info.stream}:${msg.seq}`;
}

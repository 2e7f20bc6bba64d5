/**
 * Admission control, pure (the clock is passed in): how many events may await their PubAck in this
 * process, and when a refused sender should come back. The HTTP layer asks before it publishes.
 */
import { outageBudgetSeconds } from "@tributary/streams";

/** Acks are counted in BUCKETS buckets of BUCKET_MS, so the rate covers the last second. */
const BUCKET_MS = 250;
const BUCKETS = 4;
/**
 * Below this many events in flight the queue-time check does not apply: a short burst at start,
 * before any PubAck has set the rate, is not an overload.
 */
export const QUEUE_CHECK_FLOOR = 256;

export interface InFlightLimiterOptions {
  /** Hard bound on events awaiting their PubAck. */
  maxInFlight: number;
  /** Refuse when the queue in flight would take longer than this to drain at the measured ack rate. */
  maxQueueMs: number;
  /** Milliseconds, monotonic (performance.now in production). */
  now?: () => number;
}

export class InFlightLimiter {
  readonly maxInFlight: number;
  readonly maxQueueMs: number;
  readonly #now: () => number;
  #inFlight = 0;
  readonly #buckets = new Float64Array(BUCKETS);
  #bucket = 0; // index of the current BUCKET_MS slot since the time origin
  /** Refusals by reason, for /v1/stats. */
  refusedFull = 0;
  refusedSlow = 0;

  constructor(options: InFlightLimiterOptions) {
    this.maxInFlight = options.maxInFlight;
    this.maxQueueMs = options.maxQueueMs;
    this.#now = options.now ?? (() => performance.now());
    this.#bucket = Math.floor(this.#now() / BUCKET_MS);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Moves the window to the current slot, zeroing the slots that passed without acks. */
  #rotate(): void {
    const slot = Math.floor(this.#now() / BUCKET_MS);
    if (slot === this.#bucket) return;
    const passed = Math.min(BUCKETS, slot - this.#bucket);
    for (let i = 1; i <= passed; i++) this.#buckets[(this.#bucket + i) % BUCKETS] = 0;
    this.#bucket = slot;
  }

  /** PubAcks (and refusals from the stream) per second over the last second. */
  ackRate(): number {
    this.#rotate();
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += this.#buckets[i]!;
    return sum / ((BUCKETS * BUCKET_MS) / 1000);
  }

  /**
   * Reserves `n` slots (a batch reserves all of its items at once, so a batch is admitted whole or
   * not at all). False when the hard bound would be passed, or when the queue would take longer
   * than maxQueueMs to drain at the current ack rate.
   */
  tryAcquire(n = 1): boolean {
    const wanted = this.#inFlight + n;
    if (wanted > this.maxInFlight) {
      this.refusedFull++;
      return false;
    }
    if (wanted > QUEUE_CHECK_FLOOR) {
      const rate = this.ackRate();
      if (rate > 0 && (wanted / rate) * 1000 > this.maxQueueMs) {
        this.refusedSlow++;
        return false;
      }
    }
    this.#inFlight = wanted;
    return true;
  }

  /** Frees `n` slots; `answered` counts them towards the ack rate (the stream answered them). */
  release(n = 1, answered = true): void {
    this.#inFlight = Math.max(0, this.#inFlight - n);
    if (answered) {
      this.#rotate();
      this.#buckets[this.#bucket % BUCKETS]! += n;
    }
  }

  /** Seconds until the events in flight have drained at the current rate, at least 1. */
  retryAfterSeconds(fallbackSeconds: number, maxSeconds: number): number {
    const rate = this.ackRate();
    if (rate <= 0) return clampSeconds(fallbackSeconds, 1, maxSeconds);
    return clampSeconds(this.#inFlight / rate, 1, maxSeconds);
  }
}

/** A Retry-After value: whole seconds, rounded up, within [min, max]. */
export function clampSeconds(seconds: number, min: number, max: number): number {
  if (!Number.isFinite(seconds)) return max;
  return Math.min(max, Math.max(min, Math.ceil(seconds)));
}

/** One reading of the regional stream's state (JetStream stream info). */
export interface StreamSample {
  /** Milliseconds since the epoch, when the info was read. */
  at: number;
  bytes: number;
  messages: number;
  /** The stream's max_bytes; -1 or 0 means unlimited. */
  maxBytes: number;
  firstSeq: number;
  /** The last sequence number: how far it moves between readings is the input rate. */
  lastSeq: number;
  /** Milliseconds since the epoch of the oldest message, or null when the stream is empty. */
  firstTs: number | null;
  /** The stream's max_age in milliseconds; 0 means unlimited. */
  maxAgeMs: number;
}

export interface FillOptions {
  /** Fill level (bytes / max_bytes) at which the buffer counts as nearly full (not ready). */
  nearlyFullRatio: number;
  /** A sample older than this is stale: readiness cannot vouch for the stream. */
  staleAfterMs: number;
  minRetryAfterSeconds: number;
  maxRetryAfterSeconds: number;
}

export interface FillState {
  /** bytes / max_bytes of the last sample, 0 for an unlimited stream, null before any sample. */
  fill: number | null;
  fresh: boolean;
  /** The stream refused an event as full, and no sample since shows room again. */
  full: boolean;
  nearlyFull: boolean;
  /** Bytes per second the stream frees (messages leaving by age or limits), smoothed. */
  drainBytesPerSecond: number;
  /** Bytes per second arriving (from every gateway of the region), smoothed. */
  ingressBytesPerSecond: number;
}

/** Weight of the newest drain measurement in the moving average. */
const DRAIN_EWMA_WEIGHT = 0.3;

/**
 * Tracks the regional stream's fill level from periodic samples and estimates how fast it drains.
 * The regional stream keeps events by limits (age/bytes), so it drains as its oldest events age
 * out: the drain rate is read from how far the first sequence moved between samples, times the
 * average message size. Retry-After for a full stream is the time to free some headroom at that
 * rate, or, when nothing is draining, the time until the oldest message reaches max_age.
 */
export class FillTracker {
  readonly #options: FillOptions;
  #last: StreamSample | undefined;
  #drain = 0;
  #ingress = 0;
  #fullSince: number | undefined;
  /** Readings that had a previous one to compare with (rates are known from the first). */
  #readings = 0;

  constructor(options: FillOptions) {
    this.#options = options;
  }

  get last(): StreamSample | undefined {
    return this.#last;
  }

  /** Bytes that must be free before the stream counts as having room again. */
  headroom(sample: StreamSample): number {
    const avg = sample.messages > 0 ? sample.bytes / sample.messages : 0;
    const limited = sample.maxBytes > 0 ? Math.min(1024 * 1024, sample.maxBytes * 0.01) : 0;
    return Math.max(avg, limited);
  }

  update(sample: StreamSample): void {
    const prev = this.#last;
    if (prev !== undefined && sample.at > prev.at) {
      const removed = Math.max(0, sample.firstSeq - prev.firstSeq);
      const avg = prev.messages > 0 ? prev.bytes / prev.messages : 0;
      const seconds = (sample.at - prev.at) / 1000;
      const rate = (removed * avg) / seconds;
      this.#drain = this.#drain === 0 ? rate : DRAIN_EWMA_WEIGHT * rate + (1 - DRAIN_EWMA_WEIGHT) * this.#drain;
      // Arrivals: the last sequence counts every message stored, whichever gateway published it.
      const added = Math.max(0, sample.lastSeq - prev.lastSeq);
      const avgNow = sample.messages > 0 ? sample.bytes / sample.messages : avg;
      const ingress = (added * avgNow) / seconds;
      this.#ingress =
        this.#ingress === 0 ? ingress : DRAIN_EWMA_WEIGHT * ingress + (1 - DRAIN_EWMA_WEIGHT) * this.#ingress;
      this.#readings++;
    }
    this.#last = sample;
    if (this.#fullSince !== undefined && sample.at > this.#fullSince) {
      const free = sample.maxBytes > 0 ? sample.maxBytes - sample.bytes : Number.POSITIVE_INFINITY;
      if (free >= this.headroom(sample)) this.#fullSince = undefined;
    }
  }

  /** The stream refused an event as full and no reading since shows headroom. */
  get full(): boolean {
    return this.#fullSince !== undefined;
  }

  /** The stream answered "full" to a publish at `now` (ms since the epoch). */
  markFull(now: number): void {
    this.#fullSince ??= now;
  }

  state(now: number): FillState {
    const last = this.#last;
    const fill = last === undefined ? null : last.maxBytes > 0 ? last.bytes / last.maxBytes : 0;
    return {
      fill,
      fresh: last !== undefined && now - last.at <= this.#options.staleAfterMs,
      full: this.#fullSince !== undefined,
      nearlyFull: fill !== null && fill >= this.#options.nearlyFullRatio,
      drainBytesPerSecond: this.#drain,
      ingressBytesPerSecond: this.#ingress,
    };
  }

  /**
   * How long the stream can ride out a cut from the hub at the current input rate (see
   * outageBudgetSeconds); null until two readings have given a rate.
   */
  outageBudgetSeconds(): number | null {
    const last = this.#last;
    if (last === undefined || this.#readings === 0) return null;
    return outageBudgetSeconds({
      bytes: last.bytes,
      maxBytes: last.maxBytes,
      maxAgeMs: last.maxAgeMs,
      ingressBytesPerSecond: this.#ingress,
    });
  }

  /** Seconds a sender should wait before retrying into a full stream. */
  retryAfterSeconds(now: number): number {
    const { minRetryAfterSeconds: min, maxRetryAfterSeconds: max } = this.#options;
    const last = this.#last;
    // No reading of a non-empty stream yet (it filled up since): no basis for more than the minimum.
    if (last === undefined || last.messages === 0) return min;
    const free = last.maxBytes > 0 ? last.maxBytes - last.bytes : Number.POSITIVE_INFINITY;
    const avg = last.messages > 0 ? last.bytes / last.messages : 0;
    const need = Math.max(this.headroom(last) - free, avg, 1);
    if (this.#drain > 0) return clampSeconds(need / this.#drain, min, max);
    if (last.firstTs !== null && last.maxAgeMs > 0) {
      // Nothing drains yet: the oldest event ages out at firstTs + maxAge, and draining starts then.
      return clampSeconds((last.firstTs + last.maxAgeMs - now) / 1000, min, max);
    }
    // No max_age and nothing draining: only an operator frees space.
    return max;
  }
}

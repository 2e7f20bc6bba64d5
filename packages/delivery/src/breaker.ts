/**
 * A destination's circuit breaker, judged on its failure rate (breaker.ts is pure logic: no timers,
 * the clock and the randomness are injected, so its tests need no wall clock).
 *
 * Why our own small code rather than a library: cockatiel (used here before, and still by the
 * loader) has rate breakers (SamplingBreaker, CountBreaker), but its breaker hook is told only that
 * a call failed, not how, so the fast path for an endpoint that does not answer at all cannot be
 * written against it, and it reads Date.now itself (tests need fake timers); opossum wraps the call
 * (its own timeout, fallbacks, events) and likewise judges success or failure only. What is needed
 * is small: resilience4j's time-based sliding window (failure rate threshold + minimum number of
 * calls) in opossum's rolling buckets (10 over the window), two fast paths and a half-open probe.
 *
 * The rule, while closed:
 * - **down**: `failuresToOpen` attempts in a row got no HTTP answer (connection refused or reset,
 *   DNS, TLS, timeout): a stopped endpoint opens the breaker within a few requests;
 * - **rate**: over the last `windowMs` (in 10 buckets, so 90-100 % of it is remembered), at least
 *   `minimumAttempts` attempts, of which at least `failureRateToOpen` failed in a retryable way
 *   (no answer, 408, 429, 5xx): a destination that fails most of its requests;
 * - **streak**: `minimumAttempts` retryable failures in a row however long they took: a
 *   destination with too little traffic to fill the window that fails every request.
 * A destination answering 500 to 30 % of requests at random trips none of these (its answers are
 * answers, its rate is under half, and a streak of 20 has a chance of 0.3^20), so its events flow
 * through retries; the consecutive rule alone tripped it again and again (0.3^5 per 5 attempts).
 *
 * While open no attempt is permitted. After `halfOpenAfterMs` (doubling per failed probe up to
 * `maxHalfOpenAfterMs`, each wait up to PROBE_JITTER longer at random) it is half-open: one probe
 * at a time; a probe that succeeds (a 2xx, or a 4xx: an answer that is not a retryable failure)
 * closes it, with a fresh window; a retryable failure opens it again. Outcomes of attempts
 * permitted before a transition do not move the state.
 */

export type BreakerState = "closed" | "open" | "half-open";

/** How a retryable attempt failed: without any HTTP answer, or with one (408, 429, 5xx). */
export type AttemptFailureKind = "no_answer" | "answer";

/** How much longer than configured a probe may wait: its share of the spread across replicas. */
export const PROBE_JITTER = 0.25;

/** Buckets of the sliding window (opossum's `rollingCountBuckets` default). */
export const WINDOW_BUCKETS = 10;

export interface BreakerSettings {
  /** Attempts in a row without an HTTP answer that open the breaker. */
  failuresToOpen: number;
  /** Share of retryable failures among the window's attempts that opens it (0 < r ≤ 1). */
  failureRateToOpen: number;
  /** Attempts the window must hold before its rate counts; also the length of a failure streak that opens it. */
  minimumAttempts: number;
  /** Length of the sliding window, ms (in WINDOW_BUCKETS buckets). */
  windowMs: number;
  halfOpenAfterMs: number;
  maxHalfOpenAfterMs: number;
}

export interface BreakerClock {
  /** Milliseconds, monotonic enough (Date.now or performance.now). */
  now(): number;
  /** [0, 1), for the probe's jitter. */
  random(): number;
}

export const systemClock: BreakerClock = { now: () => Date.now(), random: () => Math.random() };

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  /** Why, in words for an operator ("12 of 20 attempts failed in the last 10 s (last: HTTP 503)"). */
  reason: string;
  /** The clock's time of the transition. */
  at: number;
}

/** Leave to make one attempt, handed back with its outcome. */
export interface BreakerPermit {
  readonly probe: boolean;
  /** The breaker's generation when permitted: outcomes of an earlier one do not move the state. */
  readonly generation: number;
}

/** Attempts and retryable failures per time bucket, over the last `windowMs`. */
export class SlidingWindow {
  readonly #bucketMs: number;
  readonly #epochs = new Float64Array(WINDOW_BUCKETS).fill(-Infinity);
  readonly #attempts = new Uint32Array(WINDOW_BUCKETS);
  readonly #failures = new Uint32Array(WINDOW_BUCKETS);

  constructor(windowMs: number) {
    this.#bucketMs = Math.max(1, Math.ceil(windowMs / WINDOW_BUCKETS));
  }

  record(now: number, failed: boolean): void {
    const epoch = Math.floor(now / this.#bucketMs);
    const i = epoch % WINDOW_BUCKETS;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#attempts[i] = 0;
      this.#failures[i] = 0;
    }
    this.#attempts[i]!++;
    if (failed) this.#failures[i]!++;
  }

  totals(now: number): { attempts: number; failures: number } {
    const epoch = Math.floor(now / this.#bucketMs);
    let attempts = 0;
    let failures = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      const e = this.#epochs[i]!;
      if (e > epoch - WINDOW_BUCKETS && e <= epoch) {
        attempts += this.#attempts[i]!;
        failures += this.#failures[i]!;
      }
    }
    return { attempts, failures };
  }

  clear(): void {
    this.#epochs.fill(-Infinity);
  }
}

export class DestinationBreaker {
  readonly #settings: BreakerSettings;
  readonly #clock: BreakerClock;
  readonly #window: SlidingWindow;
  readonly #listeners: Array<(t: BreakerTransition) => void> = [];
  #state: BreakerState = "closed";
  #generation = 0;
  #unanswered = 0; // attempts in a row without an answer
  #streak = 0; // retryable failures in a row
  #failedProbes = 0;
  #opened = 0;
  #probeAt = 0;
  #probing = false;

  constructor(settings: BreakerSettings, clock: BreakerClock = systemClock) {
    this.#settings = settings;
    this.#clock = clock;
    this.#window = new SlidingWindow(settings.windowMs);
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** The window's attempts and retryable failures now (empty unless closed). */
  get window(): { attempts: number; failures: number } {
    return this.#window.totals(this.#clock.now());
  }

  onTransition(listener: (t: BreakerTransition) => void): void {
    this.#listeners.push(listener);
  }

  /** Leave for one attempt, or undefined while open (or while half-open with a probe out). */
  acquire(): BreakerPermit | undefined {
    if (this.#state === "closed") return { probe: false, generation: this.#generation };
    if (this.#state === "open") {
      const now = this.#clock.now();
      if (now < this.#probeAt) return undefined;
      this.#move("half-open", `probing after ${Math.round(now - this.#opened)} ms open`);
    }
    if (this.#probing) return undefined;
    this.#probing = true;
    return { probe: true, generation: this.#generation };
  }

  /** The attempt got an answer that is not a retryable failure (2xx, or a 4xx: the event's fault). */
  succeeded(permit: BreakerPermit, detail = ""): void {
    if (permit.generation !== this.#generation) return;
    if (permit.probe) {
      this.#failedProbes = 0;
      this.#move("closed", `probe succeeded${detail ? ` (${detail})` : ""}`);
      return;
    }
    this.#unanswered = 0;
    this.#streak = 0;
    this.#window.record(this.#clock.now(), false);
  }

  /** The attempt failed in a retryable way; `detail` names how (for the reason of an opening). */
  failed(permit: BreakerPermit, kind: AttemptFailureKind, detail: string): void {
    if (permit.generation !== this.#generation) return;
    if (permit.probe) {
      this.#failedProbes++;
      this.#open(`probe failed: ${detail}`);
      return;
    }
    const now = this.#clock.now();
    this.#unanswered = kind === "no_answer" ? this.#unanswered + 1 : 0;
    this.#streak++;
    this.#window.record(now, true);
    const reason = this.#openingReason(now);
    if (reason) this.#open(`${reason} (last: ${detail})`);
  }

  /** The attempt has no outcome for the breaker (no request was made): a probe's turn goes to the next. */
  released(permit: BreakerPermit): void {
    if (permit.probe && permit.generation === this.#generation) this.#probing = false;
  }

  /**
   * Probe at the next acquire, as if the breaker had just opened and waited (an operator resumed
   * the destination): should that probe fail, the next wait is halfOpenAfterMs again.
   */
  probeSoon(): void {
    if (this.#state !== "open") return;
    this.#failedProbes = -1; // the probe now stands for the wait a fresh opening would have had
    this.#probeAt = this.#clock.now();
  }

  #openingReason(now: number): string | undefined {
    const s = this.#settings;
    if (this.#unanswered >= s.failuresToOpen) return `${this.#unanswered} attempts in a row got no answer`;
    if (this.#streak >= s.minimumAttempts) return `${this.#streak} attempts in a row failed`;
    const { attempts, failures } = this.#window.totals(now);
    if (attempts >= s.minimumAttempts && failures >= s.failureRateToOpen * attempts) {
      return `${failures} of ${attempts} attempts failed in the last ${formatMs(s.windowMs)}`;
    }
    return undefined;
  }

  #open(reason: string): void {
    const s = this.#settings;
    const base = Math.min(
      Math.max(s.halfOpenAfterMs, s.maxHalfOpenAfterMs),
      s.halfOpenAfterMs * 2 ** Math.min(this.#failedProbes, 30),
    );
    // Upward only: the configured wait is a promise to a recovering destination; the spread keeps
    // replicas whose breakers opened together from probing it in lockstep.
    const wait = Math.round(base * (1 + this.#clock.random() * PROBE_JITTER));
    this.#opened = this.#clock.now();
    this.#probeAt = this.#opened + wait;
    this.#move("open", reason);
  }

  #move(to: BreakerState, reason: string): void {
    const from = this.#state;
    this.#state = to;
    this.#generation++;
    this.#probing = false;
    this.#unanswered = 0;
    this.#streak = 0;
    if (to === "closed") this.#window.clear();
    const transition = { from, to, reason, at: this.#clock.now() };
    for (const listener of this.#listeners) listener(transition);
  }
}

/** "10 s", "1.5 s", "800 ms". */
export function formatMs(ms: number): string {
  return ms >= 1_000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** The breaker of a destination's config (`breaker` in DestinationSchema). */
export function destinationBreaker(settings: BreakerSettings, clock?: BreakerClock): DestinationBreaker {
  return new DestinationBreaker(settings, clock);
}

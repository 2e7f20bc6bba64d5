import type { BreakerReport, ControlStore } from "@tributary/control";
import type { DeliveryLog, DestinationStateChange } from "@tributary/delivery";

/** How often every subscription's breaker is reported even when it did not move (readers call a report older than a minute unknown). */
export const BREAKER_REFRESH_MS = 15_000;
/** One subscription's reports are this far apart at least: a flapping breaker writes no more than that. */
export const BREAKER_MIN_INTERVAL_MS = 5_000;

export interface BreakerReporterOptions {
  store: Pick<ControlStore, "reportBreaker">;
  /** The subscriptions running here and their breaker's state now. */
  running: () => Iterable<[string, BreakerReport["state"]]>;
  log: DeliveryLog;
  refreshMs?: number;
  minIntervalMs?: number;
  now?: () => Date;
}

interface Reported {
  state: BreakerReport["state"];
  reason?: string;
  since: string;
  /** Clock time of the last write (0: none yet). */
  writtenAt: number;
  timer?: NodeJS.Timeout;
}

/**
 * Writes each control-bucket subscription's circuit breaker into the bucket (`health.<id>`) for
 * the management API: when it moves (at most once per `minIntervalMs` per subscription, the latest
 * state winning) and every `refreshMs` for all of them, so a report that stops being refreshed
 * tells the reader this process stopped reporting. A failed write is logged and left to the next.
 */
export class BreakerReporter {
  readonly #reported = new Map<string, Reported>();
  readonly #now: () => Date;
  #refresh: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BreakerReporterOptions) {
    this.#now = opts.now ?? (() => new Date());
  }

  start(): void {
    this.#refresh = setInterval(() => this.#refreshAll(), this.opts.refreshMs ?? BREAKER_REFRESH_MS);
    this.#refresh.unref();
    this.#refreshAll();
  }

  stop(): void {
    clearInterval(this.#refresh);
    for (const reported of this.#reported.values()) clearTimeout(reported.timer);
  }

  /** A deliverer's state change: breaker transitions are reported (pauses have the subscription's record). */
  changed(change: DestinationStateChange): void {
    if (change.state !== "open" && change.state !== "half_open" && change.state !== "closed") return;
    const reported = this.#entry(change.destination, "closed");
    reported.state = change.state === "half_open" ? "half-open" : change.state;
    reported.reason = change.reason;
    reported.since = change.at;
    this.#schedule(change.destination, reported);
  }

  /** A subscription (re)started here: reported soon, its breaker closed since now. */
  started(id: string): void {
    const reported = this.#entry(id, "closed");
    reported.state = "closed";
    delete reported.reason;
    reported.since = this.#now().toISOString();
    this.#schedule(id, reported);
  }

  /** A subscription gone from here: no more reports. */
  removed(id: string): void {
    clearTimeout(this.#reported.get(id)?.timer);
    this.#reported.delete(id);
  }

  #entry(id: string, state: BreakerReport["state"]): Reported {
    let reported = this.#reported.get(id);
    if (!reported) {
      reported = { state, since: this.#now().toISOString(), writtenAt: 0 };
      this.#reported.set(id, reported);
    }
    return reported;
  }

  #schedule(id: string, reported: Reported): void {
    if (reported.timer) return; // a write is due already: it takes the latest state
    const wait = Math.max(0, reported.writtenAt + (this.opts.minIntervalMs ?? BREAKER_MIN_INTERVAL_MS) - Date.now());
    reported.timer = setTimeout(() => {
      reported.timer = undefined;
      void this.#write(id, reported);
    }, wait);
    reported.timer.unref();
  }

  #refreshAll(): void {
    for (const [id, state] of this.opts.running()) {
      const reported = this.#entry(id, state);
      if (reported.timer) continue;
      if (reported.state !== state) {
        // A transition not seen (a deliverer replaced): the state as it is now.
        reported.state = state;
        delete reported.reason;
        reported.since = this.#now().toISOString();
      }
      void this.#write(id, reported);
    }
  }

  async #write(id: string, reported: Reported): Promise<void> {
    if (this.#reported.get(id) !== reported) return;
    reported.writtenAt = Date.now();
    const report: BreakerReport = {
      state: reported.state,
      ...(reported.reason !== undefined ? { reason: reported.reason } : {}),
      since: reported.since,
      reportedAt: this.#now().toISOString(),
    };
    await this.opts.store.reportBreaker(id, report).catch((err: unknown) => {
      this.opts.log.warn({ err, subscription: id }, "breaker report not written; the next one tries again");
    });
  }
}

import type { GatewayEventCount, GatewayOutcome } from "@tributary/telemetry";

/** The source label of refusals for an id no source has: label values must not come from senders. */
export const UNKNOWN_SOURCE = "_unknown";

/**
 * In-process counters behind `GET /v1/stats` and the Prometheus metrics (read at scrape time, so
 * the request path only increments numbers).
 */
export class GatewayCounters {
  accepted = 0;
  duplicates = 0;
  /** Bytes of event bodies the stream acknowledged as new. */
  publishedBytes = 0;
  readonly refused = new Map<string, number>();
  readonly unknownEventTypes = new Map<string, number>();
  /** source → secret id → { count, lastUsedAt }: shows when an old secret is safe to retire. */
  readonly secrets = new Map<string, Map<string, { count: number; lastUsedAt: number }>>();
  /** (source, outcome, code) → count, for the per-source metrics. */
  readonly #events = new Map<string, GatewayEventCount>();

  #count(source: string, outcome: GatewayOutcome, code: string, n: number): void {
    const id = `${source}\u0000${outcome}\u0000${code}`;
    const entry = this.#events.get(id);
    if (entry) entry.count += n;
    else this.#events.set(id, { source, outcome, code, count: n });
  }

  accept(source: string, n = 1): void {
    this.accepted += n;
    this.#count(source, "accepted", "", n);
  }

  duplicate(source: string, n = 1): void {
    this.duplicates += n;
    this.#count(source, "duplicate", "", n);
  }

  refusal(code: string, source: string = UNKNOWN_SOURCE): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
    this.#count(source, "refused", code, 1);
  }

  /** Every (source, outcome, code) count so far. */
  events(): Iterable<GatewayEventCount> {
    return this.#events.values();
  }

  unknownEventType(source: string): void {
    this.unknownEventTypes.set(source, (this.unknownEventTypes.get(source) ?? 0) + 1);
  }

  secretUsed(source: string, secretId: string): void {
    let bySecret = this.secrets.get(source);
    if (!bySecret) this.secrets.set(source, (bySecret = new Map()));
    const entry = bySecret.get(secretId);
    if (entry) {
      entry.count++;
      entry.lastUsedAt = Date.now();
    } else bySecret.set(secretId, { count: 1, lastUsedAt: Date.now() });
  }

  toJSON(): Record<string, unknown> {
    return {
      accepted: this.accepted,
      duplicates: this.duplicates,
      refused: Object.fromEntries(this.refused),
      unknown_event_types: Object.fromEntries(this.unknownEventTypes),
      secrets: Object.fromEntries(
        [...this.secrets].map(([source, bySecret]) => [
          source,
          Object.fromEntries(
            [...bySecret].map(([id, e]) => [
              id,
              { count: e.count, last_used_at: new Date(e.lastUsedAt).toISOString() },
            ]),
          ),
        ]),
      ),
    };
  }
}

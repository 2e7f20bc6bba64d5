import { ConfigError } from "@tributary/errors";
import { Fifo } from "./fifo.js";

export interface RecentKeysOptions {
  /** Most keys held; the oldest is evicted beyond it. This is the memory bound. */
  maxKeys: number;
  /** How long a key counts as recent, in milliseconds, from its first sighting. */
  windowMs: number;
}

/**
 * Defaults for the aggregator's cross-region dedupe: a day covers any sender's retry schedule
 * (deep-link senders stop retrying after about 30 minutes) and a region link outage of hours.
 * Memory: measured on Node 24 at ~140 bytes per key for short delivery ids (~30-character keys)
 * and ~190 bytes per key for body-hash keys (`source:sha256:<64 hex>`, ~77 characters), so about
 * 150–200 MB at the full million; size maxKeys to the window's event count and the heap.
 */
export const DEFAULT_RECENT_KEYS: Readonly<RecentKeysOptions> = Object.freeze({
  maxKeys: 1_000_000,
  windowMs: 24 * 60 * 60 * 1000, // 24 hours
});

export interface RecentKeysStats {
  /** checkAndAdd calls. */
  checks: number;
  /** checkAndAdd calls that found the key within the window. */
  duplicates: number;
  /** Keys recorded (new, or seen again after their window ended). */
  added: number;
  /** Keys dropped because their window ended. */
  expired: number;
  /**
   * Keys dropped for capacity while still inside the window. Non-zero means the effective window
   * is shorter than windowMs: raise maxKeys (duplicates are then caught only by the warehouse).
   */
  evicted: number;
  /** Keys removed by delete(). */
  deleted: number;
}

interface Entry {
  readonly key: string;
  readonly seenAtMs: number;
}

/**
 * A bounded set of recently seen event keys. Lookups go through a Map; the order of arrival is
 * kept in a FIFO so the oldest key is found in O(1) (see fifo.ts for why not the Map itself).
 * The Map holds the very Entry object queued in the FIFO, so an entry that was deleted or
 * re-added is recognised as stale when it reaches the front and leaves the live key alone.
 *
 * The caller's clock is passed in (`nowMs`), so tests and replays control time. A key is a
 * duplicate when first seen less than windowMs ago; a duplicate does not extend its window.
 * If the clock steps backwards, keys "from the future" count as recent: a duplicate is the safe
 * answer because the warehouse's unique key still holds.
 *
 * Order of use in the aggregator: a key must not be remembered for an event that was not stored.
 * Call checkAndAdd when the event enters a batch, and delete(key) for every event of a batch that
 * failed to load (it will be redelivered and must not then be dropped as a duplicate).
 */
export class RecentKeys {
  readonly maxKeys: number;
  readonly windowMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #order = new Fifo<Entry>();
  readonly #stats: RecentKeysStats = { checks: 0, duplicates: 0, added: 0, expired: 0, evicted: 0, deleted: 0 };

  constructor(options: RecentKeysOptions = DEFAULT_RECENT_KEYS) {
    const { maxKeys, windowMs } = options;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
      throw new ConfigError("maxKeys", "must be a positive integer");
    }
    if (!Number.isFinite(windowMs) || windowMs <= 0) {
      throw new ConfigError("windowMs", "must be a positive number of milliseconds");
    }
    this.maxKeys = maxKeys;
    this.windowMs = windowMs;
  }

  /** Live keys held (≤ maxKeys). */
  get size(): number {
    return this.#entries.size;
  }

  /** A snapshot of the counters, for metrics. */
  get stats(): Readonly<RecentKeysStats> {
    return { ...this.#stats };
  }

  /** True when `key` was first seen within the window (a duplicate); otherwise records it. */
  checkAndAdd(key: string, nowMs: number): boolean {
    this.#stats.checks += 1;
    this.#expire(nowMs);
    const existing = this.#entries.get(key);
    if (existing !== undefined && this.#isRecent(existing, nowMs)) {
      this.#stats.duplicates += 1;
      return true;
    }
    // New, or a leftover whose window ended out of FIFO order (clock steps); the old queued
    // entry becomes stale and is skipped when it reaches the front.
    if (existing !== undefined) this.#stats.expired += 1;
    const entry: Entry = { key, seenAtMs: nowMs };
    this.#entries.set(key, entry);
    this.#order.push(entry);
    this.#stats.added += 1;
    this.#evictOverCapacity();
    return false;
  }

  /** True when `key` was first seen within the window. Does not record it. */
  has(key: string, nowMs: number): boolean {
    const existing = this.#entries.get(key);
    return existing !== undefined && this.#isRecent(existing, nowMs);
  }

  /**
   * Forgets a key (e.g. its batch failed to load and it will be redelivered). Its FIFO slot is
   * released when it reaches the front, so memory stays bounded by maxKeys queued entries.
   */
  delete(key: string): boolean {
    const removed = this.#entries.delete(key);
    if (removed) this.#stats.deleted += 1;
    return removed;
  }

  clear(): void {
    this.#entries.clear();
    this.#order.clear();
  }

  #isRecent(entry: Entry, nowMs: number): boolean {
    // Not `>=`: a NaN clock then counts as recent (a duplicate), never as a fresh key.
    return !(nowMs - entry.seenAtMs >= this.windowMs);
  }

  #isLive(entry: Entry): boolean {
    return this.#entries.get(entry.key) === entry;
  }

  /** Drops entries whose window has ended, oldest first; stops at the first recent one. */
  #expire(nowMs: number): void {
    for (let head = this.#order.peek(); head !== undefined; head = this.#order.peek()) {
      const live = this.#isLive(head);
      if (live && this.#isRecent(head, nowMs)) return;
      this.#order.shift();
      if (live) {
        this.#entries.delete(head.key);
        this.#stats.expired += 1;
      }
    }
  }

  /**
   * Keeps queued entries (live and stale) within maxKeys, so memory is bounded even after many
   * delete() calls; the oldest goes first.
   */
  #evictOverCapacity(): void {
    while (this.#order.size > this.maxKeys) {
      const head = this.#order.shift();
      if (head !== undefined && this.#isLive(head)) {
        this.#entries.delete(head.key);
        this.#stats.evicted += 1;
      }
    }
  }
}

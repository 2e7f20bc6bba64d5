/**
 * The data lifecycle a warehouse enforces: how long each table keeps its rows (retention), and the
 * erasure of one event, one source or one visitor. Raw events are kept for a bounded time and the
 * rollups longer: counts outlive the rows they were made from.
 */

/** How long each table keeps rows, in seconds; undefined keeps them forever. */
export interface RetentionPolicy {
  /** The events table, by `received_at` (when the gateway accepted the event). */
  events?: number | undefined;
  /** The delivery log, by `attempted_at`. */
  deliveries?: number | undefined;
  /** The stored rollups, by their bucket (minute or day of event time). */
  rollups?: number | undefined;
}

/** What one retention pass removed, per table kind. */
export interface RetentionSweep {
  events: number;
  deliveries: number;
  rollups: number;
}

/** A table as `tributary status` shows it: its rows, its oldest, and what keeps it bounded. */
export interface TableLifecycle {
  table: string;
  rows: number;
  /** ISO time of its oldest row's time column, null when empty. */
  oldest: string | null;
  /** The retention that applies, in seconds; null: kept forever. */
  retentionSeconds: number | null;
  /** `delete`: this process deletes expired rows on a timer; `ttl`: the engine drops them (ClickHouse TTL). */
  enforcedBy: "delete" | "ttl" | null;
}

/** Which events an erasure covers. */
export type ErasureSelector =
  | { keys: readonly string[] }
  | { source: string }
  /** A visitor's rows: their `visitor_hash` in each salt period (Enricher.visitorHashes). */
  | { visitorHashes: readonly string[] };

/** An erased event: where its stream copies are (hub subjects, the origin region's sequence). */
export interface ErasedEvent {
  event_key: string;
  source: string;
  event_type: string;
  region: string;
  region_seq: number;
  received_at: string;
}

export interface RowErasure {
  /** Rows anonymised now (rows erased before are not counted again). */
  rows: number;
  /** Delivery log rows of those events deleted. */
  deliveries: number;
  /** The events anonymised now, for key and visitor erasures (a source's streams are purged by subject). */
  events: ErasedEvent[];
}

/**
 * What a sink offers for the lifecycle. Erasure anonymises rather than deletes: the row keeps its
 * key, source, type, times, region and sequence and the columns the rollups count by, and loses its
 * payload, `ip_anon` and `visitor_hash` (`erased_at` says when). So reconciliation still finds a
 * row for every sequence and can report it as erased, not lost, and the rollups rebuilt from the
 * rows equal the live ones.
 */
export interface LifecycleStore {
  /** The policy that `enforceRetention` applies and the lifecycle reports (ClickHouse also sets its TTLs from it at migrate). */
  setRetention(policy: RetentionPolicy): void;
  enforceRetention(now: Date): Promise<RetentionSweep>;
  lifecycle(): Promise<TableLifecycle[]>;
  /** The events a key or visitor erasure would anonymise now (not erased yet); [] for a source. */
  erasureTargets(selector: ErasureSelector): Promise<ErasedEvent[]>;
  eraseEvents(selector: ErasureSelector, at: Date): Promise<RowErasure>;
  /** Rows of a region that were erased (reconciliation reports them). */
  erasedRows(region: string): Promise<number>;
  /** The oldest `received_at` events retention keeps at `now` (undefined: no events retention). */
  eventsRetainedSince(now: Date): Date | undefined;
}

export function isLifecycleStore(value: unknown): value is LifecycleStore {
  const v = value as Partial<LifecycleStore> | null;
  return typeof v?.enforceRetention === "function" && typeof v.eraseEvents === "function";
}

/** The cutoff a retention gives at `now`, or undefined for forever. */
export function cutoffOf(seconds: number | undefined, now: Date): Date | undefined {
  return seconds === undefined ? undefined : new Date(now.getTime() - seconds * 1000);
}

/**
 * Where a full rollup rebuild may start under events retention: the first whole UTC day after the
 * cutoff (rows before it are gone, so their buckets must keep what was counted live).
 */
export function rebuildFloor(retainedSince: Date | undefined): Date | undefined {
  if (retainedSince === undefined) return undefined;
  const day = 86_400_000;
  return new Date(Math.ceil(retainedSince.getTime() / day) * day);
}

/** A rebuild's `since` raised to the retention floor where it is earlier (or absent). */
export function clampRebuildSince(since: Date | undefined, retainedSince: Date | undefined): Date | undefined {
  const floor = rebuildFloor(retainedSince);
  if (floor === undefined) return since;
  return since === undefined || since < floor ? floor : since;
}

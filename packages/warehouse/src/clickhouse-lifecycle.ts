// ClickHouse's side of the data lifecycle (lifecycle.ts). Retention: table TTLs where the server
// has them (19.6+), else `ALTER TABLE … DELETE` mutations run by enforceRetention. Erasure:
// `ALTER TABLE … UPDATE` mutations that anonymise rows in place. Every mutation is waited for.
import type { ClickHouseHttp } from "./clickhouse-http.js";
import { sqlIdentifier, sqlString, type ClickHouseFeatures, type ClickHouseLayout } from "./clickhouse-schema.js";
import {
  cutoffOf,
  type ErasedEvent,
  type ErasureSelector,
  type RetentionPolicy,
  type RetentionSweep,
  type RowErasure,
  type TableLifecycle,
} from "./lifecycle.js";
import { WarehouseError } from "./sink.js";

const EVENTS = "events" as const;
const DELIVERIES = "deliveries" as const;
/** Literals per `IN (…)`: 400 keys of up to 512 bytes keep a statement under 18.16's 256 KiB max_query_size. */
const VALUES_PER_STATEMENT = 400;
/** How long a mutation may take before the call gives up waiting (it keeps running on the server). */
export const DEFAULT_MUTATION_TIMEOUT_MS = 600_000;

/** `erased_at`, typed like the layout's other instants (NULL until the row is erased). */
export function erasedAtType(layout: ClickHouseLayout): string {
  return layout === "datetime64" ? "Nullable(DateTime64(3, 'UTC'))" : "Nullable(DateTime('UTC'))";
}

/** The value written to `erased_at`. */
function erasedAtValue(layout: ClickHouseLayout, at: Date): string {
  if (layout === "epoch-ms") return `toDateTime(${Math.floor(at.getTime() / 1000)}, 'UTC')`;
  const iso = at.toISOString();
  return `toDateTime64(${sqlString(`${iso.slice(0, 10)} ${iso.slice(11, 23)}`)}, 3, 'UTC')`;
}

/**
 * A table's time column two ways: epoch milliseconds (for deletes and `oldest`, exact on both
 * layouts) and a DateTime, which is what a table TTL expression must evaluate to.
 */
interface TableTime {
  ms: string;
  ttl: string;
}

export function eventsTime(layout: ClickHouseLayout): TableTime {
  return layout === "datetime64"
    ? { ms: "toUnixTimestamp64Milli(received_at)", ttl: "toDateTime(received_at)" }
    : { ms: "received_at_ms", ttl: "received_at" };
}

export const DELIVERIES_TIME: TableTime = {
  ms: "attempted_at_ms",
  ttl: "toDateTime(intDiv(attempted_at_ms, 1000))",
};

/** The TTL a retention gives a table: a row expires `seconds` after its time column. */
export function ttlExpression(time: TableTime, seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds <= 0)
    throw new RangeError(`retention must be a positive whole number of seconds, got ${seconds}`);
  return `${time.ttl} + INTERVAL ${seconds} SECOND`;
}

/** The table TTL in a `system.tables.engine_full` text, or undefined when it has none. */
export function tableTtl(engineFull: string): string | undefined {
  return /\sTTL\s+(.+?)(?:\s+SETTINGS\s.*)?$/s.exec(engineFull)?.[1]?.trim();
}

/** Servers print `INTERVAL n SECOND` back as `toIntervalSecond(n)` and may spell out the default DELETE. */
function normaliseTtl(ttl: string): string {
  return ttl
    .replace(/INTERVAL\s+(\d+)\s+SECOND/gi, "toIntervalSecond($1)")
    .replace(/\s+DELETE$/i, "")
    .replace(/\s+/g, "");
}

/**
 * The statement that gives `table` the TTL of `seconds` (undefined: keep rows forever), or null
 * when it has it already: MODIFY TTL makes the server rewrite the existing parts to apply it
 * (materialize_ttl_after_modify), so an unchanged policy must not re-issue it at every start.
 * The policy owns the table TTL: a TTL set by hand is replaced, and removed when the policy has
 * no retention for the table (REMOVE TTL exists from 20.12; on older servers that is an error
 * rather than a table that silently keeps expiring rows).
 */
export function ttlStatement(
  table: string,
  time: TableTime,
  seconds: number | undefined,
  current: string | undefined,
  features: Pick<ClickHouseFeatures, "removeTtl">,
): string | null {
  if (seconds !== undefined) {
    const wanted = ttlExpression(time, seconds);
    return current !== undefined && normaliseTtl(current) === normaliseTtl(wanted)
      ? null
      : `ALTER TABLE ${table} MODIFY TTL ${wanted}`;
  }
  if (current === undefined) return null;
  if (!features.removeTtl)
    throw new WarehouseError(
      "warehouse_unavailable",
      `${table} has TTL ${current} but the retention policy keeps its rows forever, and this server has no ALTER TABLE … REMOVE TTL (20.12+): set the retention, or recreate the table without the TTL`,
    );
  return `ALTER TABLE ${table} REMOVE TTL`;
}

/** Values in groups of at most VALUES_PER_STATEMENT. */
function chunks<T>(values: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += VALUES_PER_STATEMENT) out.push(values.slice(i, i + VALUES_PER_STATEMENT));
  return out;
}

/** Oldest receipt first (as DuckDB lists them), then by key. */
const byReceipt = (a: ErasedEvent, b: ErasedEvent) =>
  a.received_at === b.received_at ? a.event_key.localeCompare(b.event_key) : a.received_at.localeCompare(b.received_at);

const inList = (column: string, values: readonly string[]) => `${column} IN (${values.map(sqlString).join(", ")})`;

/**
 * What erasure clears: the body and the columns that could single a person out. The rest stays:
 * the key (the sender's id, not the person's), times, region and sequence (reconciliation), and
 * the dimensions the analytics count by.
 */
const ANONYMISE = `payload = '{}', ip_anon = NULL, visitor_hash = NULL`;

type Row = Record<string, unknown>;

/** What the lifecycle needs of the sink. */
export interface LifecycleContext {
  http: ClickHouseHttp;
  database: string;
  /** The events table's layout; throws when the table does not exist. */
  layout(): Promise<ClickHouseLayout>;
  /**
   * Runs `work` between this sink's inserts. A count and the mutation it describes are submitted
   * there, so no batch of this process lands in between; a mutation only touches the parts that
   * existed when it was submitted, so the wait for it needs no such exclusion.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  mutationTimeoutMs: number;
}

export class ClickHouseLifecycle {
  readonly #events: string;
  readonly #deliveries: string;

  constructor(private readonly ctx: LifecycleContext) {
    this.#events = `${sqlIdentifier(ctx.database)}.${sqlIdentifier(EVENTS)}`;
    this.#deliveries = `${sqlIdentifier(ctx.database)}.${sqlIdentifier(DELIVERIES)}`;
  }

  async #rows(sql: string): Promise<Row[]> {
    const text = await this.ctx.http.query(`${sql} FORMAT JSONEachRow`, { kind: "read" });
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as Row);
  }

  async #count(sql: string): Promise<number> {
    return Number((await this.#rows(sql))[0]?.n ?? 0);
  }

  /** The engine_full of each existing table of the two, by name. */
  async #tables(): Promise<Map<string, string>> {
    const rows = await this.#rows(
      `SELECT name, engine_full FROM system.tables WHERE database = ${sqlString(this.ctx.database)} AND name IN (${sqlString(EVENTS)}, ${sqlString(DELIVERIES)})`,
    );
    return new Map(rows.map((r) => [String(r.name), String(r.engine_full)]));
  }

  /** Sets each existing table's TTL from the policy (servers with TTL only). */
  async applyTtls(policy: RetentionPolicy, features: ClickHouseFeatures): Promise<void> {
    const tables = await this.#tables();
    const targets: Array<[string, string, TableTime, number | undefined]> = [];
    if (tables.has(EVENTS)) targets.push([EVENTS, this.#events, eventsTime(await this.ctx.layout()), policy.events]);
    if (tables.has(DELIVERIES)) targets.push([DELIVERIES, this.#deliveries, DELIVERIES_TIME, policy.deliveries]);
    for (const [name, table, time, seconds] of targets) {
      const statement = ttlStatement(table, time, seconds, tableTtl(tables.get(name)!), features);
      if (statement) await this.ctx.http.query(statement, { kind: "ddl" });
    }
  }

  /**
   * Deletes what each table's retention has expired, for servers without TTL. The counts are
   * taken with FINAL (one row per key, as reads see them) just before each mutation is submitted.
   * ClickHouse has no stored rollups, so `rollups` is always 0.
   */
  async enforce(policy: RetentionPolicy, now: Date): Promise<RetentionSweep> {
    const sweep: RetentionSweep = { events: 0, deliveries: 0, rollups: 0 };
    const events = cutoffOf(policy.events, now);
    const deliveries = cutoffOf(policy.deliveries, now);
    const hasDeliveries = deliveries !== undefined && (await this.#tables()).has(DELIVERIES);
    const time = eventsTime(await this.ctx.layout());
    const pending = await this.ctx.exclusive(async () => {
      const submitted: string[] = [];
      if (events) {
        const where = `${time.ms} < ${events.getTime()}`;
        sweep.events = await this.#count(`SELECT count() AS n FROM ${this.#events} FINAL WHERE ${where}`);
        if (sweep.events > 0) submitted.push(await this.#submit(EVENTS, `DELETE WHERE ${where}`));
      }
      if (deliveries && hasDeliveries) {
        const where = `${DELIVERIES_TIME.ms} < ${deliveries.getTime()}`;
        sweep.deliveries = await this.#count(`SELECT count() AS n FROM ${this.#deliveries} FINAL WHERE ${where}`);
        if (sweep.deliveries > 0) submitted.push(await this.#submit(DELIVERIES, `DELETE WHERE ${where}`));
      }
      return submitted;
    });
    for (const table of pending) await this.#waitForMutations(table);
    return sweep;
  }

  /** Each table's rows (FINAL), oldest row and retention. */
  async describe(policy: RetentionPolicy, features: ClickHouseFeatures): Promise<TableLifecycle[]> {
    const tables = await this.#tables();
    const enforcedBy = (retention: number | undefined) =>
      retention === undefined ? null : features.ttl ? ("ttl" as const) : ("delete" as const);
    const out: TableLifecycle[] = [];
    const describeOne = async (name: string, table: string, ms: string, retention: number | undefined) => {
      const row = (await this.#rows(`SELECT count() AS n, min(${ms}) AS oldest FROM ${table} FINAL`))[0] ?? {};
      const rows = Number(row.n ?? 0);
      out.push({
        table: name,
        rows,
        oldest: rows === 0 ? null : new Date(Number(row.oldest)).toISOString(),
        retentionSeconds: retention ?? null,
        enforcedBy: enforcedBy(retention),
      });
    };
    if (tables.has(EVENTS))
      await describeOne(EVENTS, this.#events, eventsTime(await this.ctx.layout()).ms, policy.events);
    if (tables.has(DELIVERIES)) await describeOne(DELIVERIES, this.#deliveries, DELIVERIES_TIME.ms, policy.deliveries);
    return out;
  }

  /**
   * Anonymises the selected rows not yet erased and deletes their delivery log; answers the events
   * it erased (for a source, only their count).
   *
   * Why a mutation and not an inserted replacing row: the table is a ReplacingMergeTree without a
   * version column, so a replacement would win only as "the last inserted" copy, and only once a
   * merge ran (at no promised time): until then the original payload stays on disk and is
   * returned by every query without FINAL, and a copy of the event that slipped in later (a racing
   * writer, README) would win over the erasure. `ALTER TABLE … UPDATE` rewrites every copy in the
   * parts that exist when it is submitted, so once it is done (we wait for it) no part the table
   * reads holds the payload.
   *
   * A visitor's rows are first resolved to their keys, so the delivery log can be found by key
   * after `visitor_hash` is cleared, and the counts cover exactly the rows the mutations touch.
   */
  async erase(selector: ErasureSelector, at: Date): Promise<RowErasure> {
    const layout = await this.ctx.layout();
    const hasDeliveries = (await this.#tables()).has(DELIVERIES);
    const result: RowErasure = { rows: 0, deliveries: 0, events: [] };
    if ("source" in selector) {
      const part = await this.#eraseSource(selector.source, layout, at, hasDeliveries);
      result.rows = part.rows;
      result.deliveries = part.deliveries;
      return result;
    }
    const keys = "keys" in selector ? [...new Set(selector.keys)] : await this.#keysOfVisitors(selector.visitorHashes);
    for (const chunk of chunks(keys)) {
      const part = await this.#eraseKeys(chunk, layout, at, hasDeliveries);
      result.rows += part.rows;
      result.deliveries += part.deliveries;
      result.events.push(...part.events);
    }
    result.events.sort(byReceipt);
    return result;
  }

  /** The events a key or visitor erasure would anonymise now (not erased yet); none for a source. */
  async targets(selector: ErasureSelector): Promise<ErasedEvent[]> {
    if ("source" in selector) return [];
    const ms = eventsTime(await this.ctx.layout()).ms;
    const keys = "keys" in selector ? [...new Set(selector.keys)] : await this.#keysOfVisitors(selector.visitorHashes);
    const events: ErasedEvent[] = [];
    for (const chunk of chunks(keys)) events.push(...(await this.#unerased(chunk, ms)));
    return events.sort(byReceipt);
  }

  /** The events among `keys` (at most one statement's worth) not erased yet, one per key (FINAL). */
  async #unerased(keys: readonly string[], ms: string): Promise<ErasedEvent[]> {
    const rows = await this.#rows(
      `SELECT event_key, source, event_type, region, region_seq, ${ms} AS received_ms
       FROM ${this.#events} FINAL WHERE ${inList("event_key", keys)} AND erased_at IS NULL`,
    );
    return rows.map((r) => ({
      event_key: String(r.event_key),
      source: String(r.source),
      event_type: String(r.event_type),
      region: String(r.region),
      region_seq: Number(r.region_seq),
      received_at: new Date(Number(r.received_ms)).toISOString(),
    }));
  }

  async #keysOfVisitors(hashes: readonly string[]): Promise<string[]> {
    const keys = new Set<string>();
    for (const chunk of chunks([...new Set(hashes)]))
      for (const r of await this.#rows(
        `SELECT DISTINCT event_key FROM ${this.#events} WHERE ${inList("visitor_hash", chunk)}`,
      ))
        keys.add(String(r.event_key));
    return [...keys];
  }

  async #eraseKeys(keys: string[], layout: ClickHouseLayout, at: Date, hasDeliveries: boolean): Promise<RowErasure> {
    const ms = eventsTime(layout).ms;
    const { result, pending } = await this.ctx.exclusive(async () => {
      const pending: string[] = [];
      let deliveries = 0;
      // Every selected event's log, also of rows erased before (an attempt logged since, a resend).
      if (hasDeliveries) {
        const present = (
          await this.#rows(`SELECT DISTINCT event_key FROM ${this.#events} WHERE ${inList("event_key", keys)}`)
        ).map((r) => String(r.event_key));
        if (present.length > 0) {
          const where = inList("event_key", present);
          deliveries = await this.#count(`SELECT count() AS n FROM ${this.#deliveries} FINAL WHERE ${where}`);
          if (deliveries > 0) pending.push(await this.#submit(DELIVERIES, `DELETE WHERE ${where}`));
        }
      }
      const events = await this.#unerased(keys, ms);
      if (events.length > 0)
        pending.push(
          await this.#submit(
            EVENTS,
            `UPDATE ${ANONYMISE}, erased_at = ${erasedAtValue(layout, at)} WHERE ${inList(
              "event_key",
              events.map((e) => e.event_key),
            )} AND erased_at IS NULL`,
          ),
        );
      return { result: { rows: events.length, deliveries, events }, pending };
    });
    for (const table of pending) await this.#waitForMutations(table);
    return result;
  }

  async #eraseSource(source: string, layout: ClickHouseLayout, at: Date, hasDeliveries: boolean): Promise<RowErasure> {
    const bySource = `source = ${sqlString(source)}`;
    const { result, pending } = await this.ctx.exclusive(async () => {
      const pending: string[] = [];
      let deliveries = 0;
      if (hasDeliveries) {
        // Erasure leaves `source` as it is, so this subquery finds the same events before and after.
        const where = `event_key IN (SELECT event_key FROM ${this.#events} WHERE ${bySource})`;
        deliveries = await this.#count(`SELECT count() AS n FROM ${this.#deliveries} FINAL WHERE ${where}`);
        if (deliveries > 0) pending.push(await this.#submit(DELIVERIES, `DELETE WHERE ${where}`));
      }
      const where = `${bySource} AND erased_at IS NULL`;
      const rows = await this.#count(`SELECT count() AS n FROM ${this.#events} FINAL WHERE ${where}`);
      if (rows > 0)
        pending.push(
          await this.#submit(EVENTS, `UPDATE ${ANONYMISE}, erased_at = ${erasedAtValue(layout, at)} WHERE ${where}`),
        );
      return { result: { rows, deliveries, events: [] }, pending };
    });
    for (const table of pending) await this.#waitForMutations(table);
    return result;
  }

  async erasedRows(region: string): Promise<number> {
    return this.#count(
      `SELECT count() AS n FROM ${this.#events} FINAL WHERE region = ${sqlString(region)} AND erased_at IS NOT NULL`,
    );
  }

  /** Submits `ALTER TABLE <table> <command>`; answers the table's name, to wait for. */
  async #submit(table: typeof EVENTS | typeof DELIVERIES, command: string): Promise<string> {
    await this.ctx.http.query(`ALTER TABLE ${table === EVENTS ? this.#events : this.#deliveries} ${command}`, {
      kind: "ddl",
    });
    return table;
  }

  /**
   * Waits until the table has no unfinished mutation (ours and any submitted before it). Polls
   * `system.mutations`: 18.16 has no `mutations_sync`, and this works on every release. A
   * mutation that fails keeps being retried by the server and blocks later ones, so the wait has
   * a deadline; past it the call fails, and the mutation goes on in the background.
   */
  async #waitForMutations(name: string): Promise<void> {
    const database = this.ctx.database;
    const deadline = Date.now() + this.ctx.mutationTimeoutMs;
    for (let pause = 20; ; pause = Math.min(pause * 2, 500)) {
      const row = (
        await this.#rows(
          `SELECT count() AS n, sum(parts_to_do) AS parts FROM system.mutations
           WHERE database = ${sqlString(database)} AND table = ${sqlString(name)} AND is_done = 0`,
        )
      )[0];
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new WarehouseError(
          "warehouse_unavailable",
          `a mutation of ${database}.${name} is not done after ${this.ctx.mutationTimeoutMs} ms (${Number(row?.parts ?? 0)} parts to do); it goes on in the background: see system.mutations`,
        );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

import type { WarehouseRow } from "@tributary/schema";
import { ClickHouseHttp } from "./clickhouse-http.js";
import {
  clickHouseFeatures,
  clickHouseTableDdl,
  DEFAULT_DEDUP_WINDOW,
  dedupToken,
  detectLayout,
  encodeRow,
  layoutColumns,
  preferredLayout,
  sqlIdentifier,
  sqlString,
  type ClickHouseFeatures,
  type ClickHouseLayout,
} from "./clickhouse-schema.js";
import { rangesOf, type ReconcileReader } from "./reconcile.js";
import {
  ClickHouseQueries,
  CLICKHOUSE_EXTRA_COLUMNS,
  CLICKHOUSE_EXTRA_NAMES,
  encodeExtra,
} from "./clickhouse-queries.js";
import type {
  AnalyticsQuery,
  AnalyticsRow,
  EventFilter,
  EventListPage,
  EventQueries,
  QueriedEvent,
  RevenueQuery,
  RevenueRow,
  RollupRebuild,
  RollupRebuilder,
} from "./query.js";
import {
  uniqueByKey,
  WarehouseError,
  type InsertResult,
  type StoredEvent,
  type WarehouseReader,
  type WarehouseSink,
} from "./sink.js";
import { ClickHouseDeliveries } from "./clickhouse-deliveries.js";
import type { DeliveryHealthRow, DeliveryLogStore, DeliveryQuery, DeliveryRow, StoredDelivery } from "./deliveries.js";
import { ClickHouseLifecycle, DEFAULT_MUTATION_TIMEOUT_MS, erasedAtType } from "./clickhouse-lifecycle.js";
import {
  clampRebuildSince,
  cutoffOf,
  type ErasedEvent,
  type ErasureSelector,
  type LifecycleStore,
  type RetentionPolicy,
  type RetentionSweep,
  type RowErasure,
  type TableLifecycle,
} from "./lifecycle.js";

const TABLE = "events";
/** Sequences per page when reconciliation reads a region's sequences. */
const RECONCILE_PAGE = 1_000_000;
/** Keys per `IN (…)` query: 400 keys of up to 512 bytes stay under 18.16's 256 KiB query limit. */
const KEYS_PER_QUERY = 400;

export interface ClickHouseOptions {
  host: string;
  /** 8123 (8443 with `secure`). */
  port?: number;
  /** HTTPS instead of HTTP (`clickhouses://`). */
  secure?: boolean;
  /** Created by `migrate()` when missing. Default `default`. */
  database?: string;
  user?: string;
  password?: string;
  /** Gzip insert bodies and answers. Default `gzip`. */
  compression?: "gzip" | "none";
  /** Deadline of every request. Default 30 000 ms (`health()` uses at most 5 000 ms). */
  timeoutMs?: number;
  /** Keep-alive connections in the pool. Default 4. */
  connections?: number;
  /** `non_replicated_deduplication_window` of a new table on servers with the token. Default 1000. */
  dedupWindow?: number;
  /** How long retention deletes and erasures wait for their mutations. Default 600 000 ms. */
  mutationTimeoutMs?: number;
}

export interface ClickHouseServerInfo {
  /** What `SELECT version()` answered, e.g. "18.16.1". */
  version: string;
  features: ClickHouseFeatures;
  /** The layout of the events table, or null while it does not exist (before `migrate()`). */
  layout: ClickHouseLayout | null;
}

/**
 * Reads a ClickHouse warehouse URL:
 * `clickhouse://[user[:password]@]host[:port][/database][?compression=gzip|none&timeout_ms=N&connections=N]`,
 * or `clickhouses://…` for HTTPS (default port 8443). User and password are percent-decoded.
 */
export function parseClickHouseUrl(url: string): ClickHouseOptions {
  const invalid = (why: string) =>
    new WarehouseError(
      "warehouse_url_invalid",
      `invalid ClickHouse URL (${why}): use clickhouse://[user:password@]host:8123/database`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid("not a URL");
  }
  if (parsed.protocol !== "clickhouse:" && parsed.protocol !== "clickhouses:")
    throw invalid(`scheme ${parsed.protocol}`);
  if (!parsed.hostname) throw invalid("no host");
  const secure = parsed.protocol === "clickhouses:";
  const options: ClickHouseOptions = {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : secure ? 8443 : 8123,
    secure,
  };
  const path = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ""));
  if (path) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(path))
      throw invalid(`database ${JSON.stringify(path)} is not a plain identifier`);
    options.database = path;
  }
  if (parsed.username) options.user = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  for (const [key, value] of parsed.searchParams) {
    if (key === "compression") {
      if (value !== "gzip" && value !== "none") throw invalid(`compression=${value}; use gzip or none`);
      options.compression = value;
    } else if (
      key === "timeout_ms" ||
      key === "connections" ||
      key === "dedup_window" ||
      key === "mutation_timeout_ms"
    ) {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n <= 0) throw invalid(`${key}=${value}; use a positive integer`);
      if (key === "timeout_ms") options.timeoutMs = n;
      else if (key === "connections") options.connections = n;
      else if (key === "dedup_window") options.dedupWindow = n;
      else options.mutationTimeoutMs = n;
    } else {
      throw invalid(`unknown parameter ${key}`);
    }
  }
  return options;
}

interface Server {
  version: string;
  features: ClickHouseFeatures;
}

interface JsonRow {
  [column: string]: unknown;
}

function parseJsonEachRow(text: string): JsonRow[] {
  const rows: JsonRow[] = [];
  for (const line of text.split("\n")) if (line.trim() !== "") rows.push(JSON.parse(line) as JsonRow);
  return rows;
}

function isoFromMs(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return new Date(Number(value)).toISOString();
}

/**
 * ClickHouse over its HTTP interface (undici keep-alive pool, JSONEachRow, gzip). The events table
 * is a ReplacingMergeTree ordered by `event_key`; the sink detects the server version and picks
 * the table layout and the deduplication token accordingly. No I/O happens before the first call,
 * so a sink can be opened while the server is down; each call then fails with
 * `warehouse_unavailable` until it is back.
 */
export class ClickHouseSink
  implements
    WarehouseSink,
    WarehouseReader,
    ReconcileReader,
    DeliveryLogStore,
    EventQueries,
    RollupRebuilder,
    LifecycleStore
{
  readonly kind = "clickhouse";
  readonly database: string;
  readonly #http: ClickHouseHttp;
  readonly #table: string;
  readonly #dedupWindow: number;
  readonly #healthTimeoutMs: number;
  #server: Promise<Server> | null = null;
  #layout: ClickHouseLayout | null = null;
  #inserts: Promise<unknown> = Promise.resolve();
  readonly #deliveries: ClickHouseDeliveries;
  #lastSeq = 0;
  readonly #lifecycle: ClickHouseLifecycle;
  /** Undefined until setRetention: a sink never given a policy leaves the tables' TTLs alone. */
  #retention: RetentionPolicy | undefined;
  /** Whether the tables' TTLs follow #retention (set by migrate and by enforceRetention). */
  #ttlsApplied = false;
  /** Lifecycle operations run one at a time: two erasures must not count the same rows. */
  #lifecycleQueue: Promise<unknown> = Promise.resolve();

  private constructor(options: ClickHouseOptions) {
    this.database = options.database ?? "default";
    this.#table = `${sqlIdentifier(this.database)}.${sqlIdentifier(TABLE)}`;
    this.#dedupWindow = options.dedupWindow ?? DEFAULT_DEDUP_WINDOW;
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.#healthTimeoutMs = Math.min(timeoutMs, 5_000);
    const secure = options.secure ?? false;
    const port = options.port ?? (secure ? 8443 : 8123);
    const host = options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host;
    const origin = `${secure ? "https" : "http"}://${host}:${port}`;
    this.#http = new ClickHouseHttp({
      origin,
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      compression: (options.compression ?? "gzip") === "gzip",
      timeoutMs,
      connections: options.connections ?? 4,
      label: `${origin}/${this.database}`,
    });
    this.#deliveries = new ClickHouseDeliveries(this.#http, this.database);
    this.#lifecycle = new ClickHouseLifecycle({
      http: this.#http,
      database: this.database,
      layout: () => this.#requireLayout(),
      exclusive: (work) => this.#exclusive(work),
      mutationTimeoutMs: options.mutationTimeoutMs ?? DEFAULT_MUTATION_TIMEOUT_MS,
    });
  }

  /** From a `clickhouse://` URL or options; does not connect yet. */
  static async open(target: string | ClickHouseOptions): Promise<ClickHouseSink> {
    return new ClickHouseSink(typeof target === "string" ? parseClickHouseUrl(target) : target);
  }

  /** Forgets what was learnt about the server: after an outage it may come back as another version. */
  #forget(err: unknown): never {
    if (err instanceof WarehouseError && err.code === "warehouse_unavailable") {
      this.#server = null;
      this.#layout = null;
    }
    throw err;
  }

  #detectServer(): Promise<Server> {
    if (!this.#server) {
      const detecting = this.#http
        .query("SELECT version()", { kind: "read", timeoutMs: this.#healthTimeoutMs })
        .then((text) => {
          const version = text.trim();
          return { version, features: clickHouseFeatures(version) };
        });
      this.#server = detecting;
      detecting.catch(() => {
        if (this.#server === detecting) this.#server = null;
      });
    }
    return this.#server;
  }

  async #readLayout(): Promise<ClickHouseLayout | null> {
    const text = await this.#http.query(
      `SELECT name, type FROM system.columns WHERE database = ${sqlString(this.database)} AND table = ${sqlString(TABLE)} FORMAT JSONEachRow`,
      { kind: "read" },
    );
    const columns = parseJsonEachRow(text) as Array<{ name: string; type: string }>;
    if (columns.length === 0) return null;
    const layout = detectLayout(columns);
    if (!layout) {
      throw new WarehouseError(
        "warehouse_unavailable",
        `${this.database}.${TABLE} exists but has neither layout this sink knows (columns: ${columns.map((c) => c.name).join(", ")})`,
      );
    }
    return layout;
  }

  async #requireLayout(): Promise<ClickHouseLayout> {
    if (this.#layout) return this.#layout;
    const layout = await this.#readLayout();
    if (!layout)
      throw new WarehouseError(
        "warehouse_unavailable",
        `table ${this.database}.${TABLE} does not exist: run migrate() first`,
      );
    this.#layout = layout;
    return layout;
  }

  /** The server's version, what the sink uses of it, and the table's layout. */
  async server(): Promise<ClickHouseServerInfo> {
    try {
      const server = await this.#detectServer();
      const layout = this.#layout ?? (await this.#readLayout());
      return { version: server.version, features: server.features, layout };
    } catch (err) {
      return this.#forget(err);
    }
  }

  /**
   * Creates the database and the table when missing, in the layout the server supports best. An
   * existing table keeps its layout (a table created on an old server stays `epoch-ms` after an
   * upgrade; see the README for converting it).
   */
  async migrate(): Promise<void> {
    try {
      const server = await this.#detectServer();
      await this.#http.query(`CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(this.database)}`, { kind: "ddl" });
      const existing = await this.#readLayout();
      if (!existing) {
        const layout = preferredLayout(server.features);
        const ddl = clickHouseTableDdl(
          this.#table,
          layout,
          server.features.dedupToken ? { dedupWindow: this.#dedupWindow } : {},
        );
        await this.#http.query(ddl, { kind: "ddl" });
      }
      this.#layout = null;
      const layout = existing ?? (await this.#requireLayout());
      this.#layout = layout;
      // Enrichment columns and the load sequence, added to tables made before them.
      const columns = new Set(
        parseJsonEachRow(
          await this.#http.query(
            `SELECT name FROM system.columns WHERE database = ${sqlString(this.database)} AND table = ${sqlString(TABLE)} FORMAT JSONEachRow`,
            { kind: "read" },
          ),
        ).map((r) => String(r.name)),
      );
      for (const c of CLICKHOUSE_EXTRA_COLUMNS) {
        if (!columns.has(c.name))
          await this.#http.query(`ALTER TABLE ${this.#table} ADD COLUMN ${sqlIdentifier(c.name)} ${c.type}`, {
            kind: "ddl",
          });
      }
      // Set by erasure only: inserts leave it out of their column list, so new rows get NULL.
      if (!columns.has("erased_at"))
        await this.#http.query(`ALTER TABLE ${this.#table} ADD COLUMN erased_at ${erasedAtType(layout)}`, {
          kind: "ddl",
        });
      await this.#applyTtls(server.features);
    } catch (err) {
      this.#forget(err);
    }
  }

  /**
   * Inserts the rows whose keys the table does not have yet. Calls are serialised per sink, so
   * two batches of one process never race each other's key check.
   */
  insertBatch(rows: readonly WarehouseRow[]): Promise<InsertResult> {
    if (rows.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
    return this.#exclusive(() => this.#insert(rows));
  }

  /** Runs `work` in the queue of this sink's inserts (one at a time). */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#inserts.then(work);
    this.#inserts = run.catch(() => undefined);
    return run;
  }

  async #insert(rows: readonly WarehouseRow[]): Promise<InsertResult> {
    try {
      const server = await this.#detectServer();
      const layout = await this.#requireLayout();
      const unique = uniqueByKey(rows);
      // Why ask first: ReplacingMergeTree removes duplicates only when it merges parts (some time
      // later, maybe never for rows in parts that stop being merged), so every copy that reaches
      // the table costs a FINAL at read time, and nothing in an INSERT's answer says which rows
      // were new. Checking the batch's keys first makes `inserted`/`duplicates` honest counts and
      // keeps redelivered batches (the common case: a crash between commit and ack) out of the
      // table altogether. The race that remains: another writer (a second aggregator, or an earlier
      // attempt of this batch still running on the server after our request timed out) can insert
      // the same key between this check and our insert. Then both copies are stored and both
      // writers count the row as inserted; reads use FINAL, so they still see one row, and a merge
      // removes the extra copy for good. Where the server has insert_deduplication_token (22.2+),
      // a retry of the same keys is also dropped whole by the server.
      const checking = this.#existingKeys(unique.map((r) => r.event_key));
      checking.catch(() => undefined); // awaited below; encoding first must not leave it unhandled
      // Encode while the key check is on the wire (JSON encoding is most of the client's CPU).
      const loadedAt = Date.now();
      const lines = unique.map((row) => encodeRow(row, layout, loadedAt));
      const existing = await checking;
      const fresh: WarehouseRow[] = [];
      let body = "";
      unique.forEach((row, i) => {
        if (existing.has(row.event_key)) return;
        fresh.push(row);
        body += lines[i]!.slice(0, -1) + encodeExtra(row.enriched, this.#nextSeq()) + "}\n";
      });
      if (fresh.length === 0) return { inserted: 0, duplicates: rows.length };
      const settings: Record<string, string | number> = {};
      if (server.features.dedupToken) settings.insert_deduplication_token = dedupToken(fresh.map((r) => r.event_key));
      await this.#http.insert(
        `INSERT INTO ${this.#table} (${[...layoutColumns(layout), ...CLICKHOUSE_EXTRA_NAMES].join(", ")}) FORMAT JSONEachRow`,
        body,
        { settings },
      );
      return { inserted: fresh.length, duplicates: rows.length - fresh.length };
    } catch (err) {
      return this.#forget(err);
    }
  }

  /**
   * The keys among `keys` that the table already has (any copy, merged or not: no FINAL needed).
   * The keys travel as a temporary table with the query, not as an IN (…) list: 18.16 parses a
   * 5 000-literal list ~5x slower and refuses queries over 256 KiB.
   */
  async #existingKeys(keys: readonly string[]): Promise<Set<string>> {
    const text = await this.#http.queryWithTable(
      `SELECT DISTINCT event_key FROM ${this.#table} WHERE event_key IN (SELECT event_key FROM batch_keys) FORMAT JSONEachRow`,
      { name: "batch_keys", column: "event_key", values: keys },
      {},
    );
    const found = new Set<string>();
    for (const row of parseJsonEachRow(text)) found.add(String(row.event_key));
    return found;
  }

  /** Throws when the server cannot be reached or the table is missing; looks afresh each time. */
  async health(): Promise<void> {
    try {
      this.#server = null;
      this.#layout = null;
      await this.#detectServer();
      await this.#requireLayout();
    } catch (err) {
      this.#forget(err);
    }
  }

  async countEvents(filter: { source?: string } = {}): Promise<number> {
    try {
      await this.#requireLayout();
      const where = filter.source ? ` WHERE source = ${sqlString(filter.source)}` : "";
      const text = await this.#http.query(`SELECT count() AS n FROM ${this.#table} FINAL${where} FORMAT JSONEachRow`, {
        kind: "read",
      });
      return Number(parseJsonEachRow(text)[0]?.n ?? 0);
    } catch (err) {
      return this.#forget(err);
    }
  }

  /** Newest `received_at` first, one row per key (FINAL). */
  async recentEvents(limit: number): Promise<StoredEvent[]> {
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`recentEvents: limit must be a non-negative integer, got ${limit}`);
    try {
      const layout = await this.#requireLayout();
      const times =
        layout === "datetime64"
          ? `toUnixTimestamp64Milli(occurred_at) AS occurred_ms, toUnixTimestamp64Milli(received_at) AS received_ms,
             toUnixTimestamp64Milli(loaded_at) AS loaded_ms`
          : "occurred_at_ms AS occurred_ms, received_at_ms AS received_ms, loaded_at_ms AS loaded_ms";
      const text = await this.#http.query(
        `SELECT event_key, source, event_id, event_type, schema_version, ${times}, region, region_seq, payload
         FROM ${this.#table} FINAL
         ORDER BY ${layout === "datetime64" ? "received_at" : "received_at_ms"} DESC, event_key
         LIMIT ${limit}
         FORMAT JSONEachRow`,
        { kind: "read" },
      );
      return parseJsonEachRow(text).map((row) => ({
        event_key: String(row.event_key),
        source: String(row.source),
        event_id: String(row.event_id),
        event_type: String(row.event_type),
        schema_version: row.schema_version === null ? null : String(row.schema_version),
        occurred_at: isoFromMs(row.occurred_ms),
        received_at: isoFromMs(row.received_ms)!,
        loaded_at: isoFromMs(row.loaded_ms)!,
        region: String(row.region),
        region_seq: Number(row.region_seq),
        payload: parsePayload(String(row.payload)),
      }));
    } catch (err) {
      return this.#forget(err);
    }
  }

  /** Every key, once (FINAL). */
  async eventKeys(): Promise<string[]> {
    try {
      await this.#requireLayout();
      const text = await this.#http.query(`SELECT event_key FROM ${this.#table} FINAL FORMAT JSONEachRow`, {
        kind: "read",
      });
      return parseJsonEachRow(text).map((row) => String(row.event_key));
    } catch (err) {
      return this.#forget(err);
    }
  }

  // Reconciliation (reconcile.ts). 18.16 has no window functions: the distinct sequences come back
  // sorted, a page at a time (memory stays bounded however large the table), and are folded into
  // ranges here.
  async seqRanges(region: string): Promise<Array<[number, number]>> {
    try {
      await this.#requireLayout();
      const ranges: Array<[number, number]> = [];
      for (let after = -1; ;) {
        const text = await this.#http.query(
          `SELECT DISTINCT region_seq FROM ${this.#table} FINAL WHERE region = ${sqlString(region)} AND region_seq > ${after} ORDER BY region_seq LIMIT ${RECONCILE_PAGE} FORMAT TabSeparated`,
          { kind: "read" },
        );
        const seqs = text
          .split("\n")
          .filter((line) => line !== "")
          .map(Number);
        for (const [first, last] of rangesOf(seqs)) {
          const previous = ranges[ranges.length - 1];
          if (previous && first === previous[1] + 1) previous[1] = last;
          else ranges.push([first, last]);
        }
        if (seqs.length < RECONCILE_PAGE) return ranges;
        after = seqs[seqs.length - 1]!;
      }
    } catch (err) {
      return this.#forget(err);
    }
  }

  async seqDoubles(region: string, limit: number): Promise<Array<{ seq: number; keys: string[] }>> {
    try {
      await this.#requireLayout();
      const text = await this.#http.query(
        `SELECT region_seq AS seq, groupArray(event_key) AS keys FROM ${this.#table} FINAL WHERE region = ${sqlString(region)} GROUP BY region_seq HAVING count() > 1 ORDER BY region_seq LIMIT ${Math.max(1, Math.floor(limit))} FORMAT JSONEachRow`,
        { kind: "read" },
      );
      return parseJsonEachRow(text).map((row) => ({
        seq: Number(row.seq),
        keys: (row.keys as unknown[]).map(String).sort(),
      }));
    } catch (err) {
      return this.#forget(err);
    }
  }

  async existingKeys(keys: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    try {
      await this.#requireLayout();
      // In chunks: the IN list is query text, and 18.16 refuses queries over 256 KiB (max_query_size).
      for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
        const chunk = keys.slice(i, i + KEYS_PER_QUERY);
        const text = await this.#http.query(
          `SELECT DISTINCT event_key FROM ${this.#table} WHERE event_key IN (${chunk.map(sqlString).join(",")}) FORMAT JSONEachRow`,
          { kind: "read" },
        );
        for (const row of parseJsonEachRow(text)) present.add(String(row.event_key));
      }
      return present;
    } catch (err) {
      return this.#forget(err);
    }
  }

  // The delivery log (clickhouse-deliveries.ts).
  async migrateDeliveries(): Promise<void> {
    try {
      const server = await this.#detectServer();
      await this.#http.query(`CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(this.database)}`, { kind: "ddl" });
      await this.#deliveries.migrate();
      await this.#applyTtls(server.features);
    } catch (err) {
      this.#forget(err);
    }
  }
  async insertDeliveries(rows: readonly DeliveryRow[]): Promise<InsertResult> {
    return this.#deliveries.insert(rows).catch((err: unknown) => this.#forget(err));
  }
  async countDeliveries(query: DeliveryQuery = {}): Promise<number> {
    return this.#deliveries.count(query).catch((err: unknown) => this.#forget(err));
  }
  async recentDeliveries(limit: number, query: DeliveryQuery = {}): Promise<StoredDelivery[]> {
    return this.#deliveries.recent(limit, query).catch((err: unknown) => this.#forget(err));
  }
  async deliveryHealth(since: Date, destination?: string): Promise<DeliveryHealthRow[]> {
    return this.#deliveries.health(since, destination).catch((err: unknown) => this.#forget(err));
  }

  /**
   * The load sequence: microseconds of the sink's clock, strictly increasing within the process
   * (inserts are serialised), so a later batch always numbers above an earlier one. ClickHouse has
   * no sequences; with several writer processes the numbers stay unique only as far as their
   * clocks and counters do not collide (README: one writer per table for exact paging).
   */
  #nextSeq(): number {
    this.#lastSeq = Math.max(this.#lastSeq + 1, Date.now() * 1000);
    return this.#lastSeq;
  }

  #queriesInstance: ClickHouseQueries | undefined;
  get #queries(): ClickHouseQueries {
    this.#queriesInstance ??= new ClickHouseQueries(
      async (sql) => {
        try {
          return parseJsonEachRow(await this.#http.query(sql, { kind: "read" }));
        } catch (err) {
          return this.#forget(err);
        }
      },
      this.#table,
      () => this.#requireLayout(),
    );
    return this.#queriesInstance;
  }

  listEvents(filter: EventFilter, page: { limit: number; startingAfter?: number | undefined }): Promise<EventListPage> {
    return this.#queries.listEvents(filter, page);
  }

  getEvent(key: string): Promise<QueriedEvent | undefined> {
    return this.#queries.getEvent(key);
  }

  analytics(query: AnalyticsQuery): Promise<AnalyticsRow[]> {
    return this.#queries.analytics(query);
  }

  revenue(query: RevenueQuery): Promise<RevenueRow[]> {
    return this.#queries.revenue(query);
  }

  /**
   * ClickHouse keeps no stored rollups to rebuild: every analytics answer is aggregated from
   * `events FINAL` when asked (see ClickHouseQueries), so it always equals the rows. The call
   * answers with no tables, so one operator command serves either warehouse; its `since` is
   * raised to the retention floor as DuckDB's is, so both answer the same.
   */
  async rebuildRollups(options: { since?: Date | undefined } = {}): Promise<RollupRebuild> {
    await this.health();
    const from = clampRebuildSince(options.since, this.eventsRetainedSince(new Date()));
    const since = from === undefined ? null : new Date(Math.floor(from.getTime() / 60_000) * 60_000);
    return { since: since?.toISOString() ?? null, tables: [], ms: 0 };
  }

  // The data lifecycle (clickhouse-lifecycle.ts). Order: setRetention, then migrate() (and
  // migrateDeliveries()), which set the TTLs on servers that have them; a policy set later reaches
  // the TTLs at the next enforceRetention() or migrate(). On servers without TTL (18.16),
  // enforceRetention() deletes expired rows itself.
  setRetention(policy: RetentionPolicy): void {
    this.#retention = { ...policy };
    this.#ttlsApplied = false;
  }

  eventsRetainedSince(now: Date): Date | undefined {
    return cutoffOf(this.#retention?.events, now);
  }

  /** Sets the tables' TTLs from the policy, when the sink has one and the server has TTL. */
  async #applyTtls(features: ClickHouseFeatures): Promise<void> {
    const policy = this.#retention;
    if (policy === undefined || !features.ttl) return;
    await this.#lifecycle.applyTtls(policy, features);
    // Unless setRetention gave another policy meanwhile.
    if (this.#retention === policy) this.#ttlsApplied = true;
  }

  /**
   * With TTL the engine drops expired rows when it merges parts (checked every
   * merge_with_ttl_timeout, 4 h by default on current releases, a day on older ones), so this
   * only brings the TTLs up to a policy set since migrate() and answers zeros. It does not force
   * the merge: `OPTIMIZE … FINAL` rewrites the whole table, far from cheap on the table this is
   * for, and rows are only a few hours late without it. Without TTL it deletes the expired rows
   * and waits for the mutations.
   */
  enforceRetention(now: Date): Promise<RetentionSweep> {
    return this.#lifecycleStep(async () => {
      const server = await this.#detectServer();
      const policy = this.#retention ?? {};
      if (!server.features.ttl) return this.#lifecycle.enforce(policy, now);
      await this.#requireLayout();
      if (!this.#ttlsApplied) await this.#applyTtls(server.features);
      return { events: 0, deliveries: 0, rollups: 0 };
    });
  }

  eraseEvents(selector: ErasureSelector, at: Date): Promise<RowErasure> {
    return this.#lifecycleStep(() => this.#lifecycle.erase(selector, at));
  }

  // Reads: not queued behind a running mutation.
  async erasureTargets(selector: ErasureSelector): Promise<ErasedEvent[]> {
    try {
      return await this.#lifecycle.targets(selector);
    } catch (err) {
      return this.#forget(err);
    }
  }

  async lifecycle(): Promise<TableLifecycle[]> {
    try {
      const server = await this.#detectServer();
      await this.#requireLayout();
      return await this.#lifecycle.describe(this.#retention ?? {}, server.features);
    } catch (err) {
      return this.#forget(err);
    }
  }

  async erasedRows(region: string): Promise<number> {
    try {
      await this.#requireLayout();
      return await this.#lifecycle.erasedRows(region);
    } catch (err) {
      return this.#forget(err);
    }
  }

  /** One lifecycle operation at a time; failures pass through #forget like every call's. */
  #lifecycleStep<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lifecycleQueue.then(work).catch((err: unknown) => this.#forget(err));
    this.#lifecycleQueue = run.catch(() => undefined);
    return run;
  }

  freshness(sources?: readonly string[]): Promise<string | null> {
    return this.#queries.freshness(sources);
  }

  async close(): Promise<void> {
    // A running erasure or retention pass ends first (its mutation is waited for, as DuckDB's queue is).
    await this.#lifecycleQueue;
    await this.#inserts;
    await this.#http.close();
  }
}

/** The payload as JSON when it is JSON (it always is when it came through the gateway). */
function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

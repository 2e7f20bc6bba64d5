import { JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry, type KvOptions } from "@nats-io/kv";
import { defineErrors } from "@tributary/errors";
import { CONTROL_BUCKET, CONTROL_HEALTH_PREFIX, controlMirrorSource, ID_PATTERN } from "@tributary/streams";

export { CONTROL_BUCKET };

/** Earlier values kept per key: the audit stream holds the full history; this is for quick undo and diffs. */
export const CONTROL_HISTORY = 10;

export const CONTROL_ERRORS = {
  not_found: { status: 404, meaning: "No record of this kind has this id.", fix: "List the records first." },
  revision_conflict: {
    status: 409,
    meaning: "The record changed since the revision the change was based on (or already exists, for a create).",
    fix: "Read it again and apply the change to the current revision.",
  },
  invalid_id: {
    status: 400,
    meaning: "The id is not a safe name (lower-case letters, digits, _ and -, up to 32, starting with a letter).",
    fix: "Choose an id that matches ^[a-z][a-z0-9_-]{0,31}$.",
  },
  read_only: {
    status: 405,
    meaning: "This store is a region's mirror: changes are made at the hub and arrive here.",
    fix: "Send the change to the hub's management API.",
  },
} as const;

export class ControlStoreError extends defineErrors("ControlStoreError", CONTROL_ERRORS) {}

export type ResourceKind = "sources" | "subscriptions";

export interface StoredRecord<T> {
  kind: ResourceKind;
  id: string;
  /** The KV revision: pass it back to change the record only if nobody else did meanwhile. */
  revision: number;
  value: T;
}

/** A change seen by `watch`: `value` undefined when the record was deleted. */
export interface RecordChange<T> {
  kind: ResourceKind;
  id: string;
  revision: number;
  value: T | undefined;
}

export function hubBucketOptions(opts: { replicas?: number } = {}): Partial<KvOptions> {
  return { history: CONTROL_HISTORY, replicas: opts.replicas ?? 1, storage: "file" as KvOptions["storage"] };
}

/** A region's copy: a mirror of the hub's bucket, kept by the region's server while the link is up, read while it is down. */
export function regionMirrorOptions(region: string, opts: { replicas?: number } = {}): Partial<KvOptions> {
  // The mirror's deliver prefix is the region's own, which the hub exports to that region's link only.
  return { history: CONTROL_HISTORY, replicas: opts.replicas ?? 1, mirror: controlMirrorSource(region) };
}

/**
 * A subscription's circuit breaker as its delivery process last reported it (`health.<id>`):
 * written when it changes and refreshed every few seconds, so a report older than that says the
 * process stopped reporting (readers treat it as unknown).
 */
export interface BreakerReport {
  state: "closed" | "open" | "half-open";
  /** Why it is in this state (the rule that opened it and the last failure), when it moved. */
  reason?: string;
  /** ISO time the state was entered (as far as this process knows: its start for a breaker never moved). */
  since: string;
  /** ISO time of this report. */
  reportedAt: string;
}

const WRONG_LAST_SEQUENCE = 10071;

const keyOf = (kind: ResourceKind, id: string) => `${kind}.${id}`;
/** Secret last-use marks live under `usage.`: not a resource, never watched by the processes. */
const USAGE_PREFIX = "usage";

function recordOf<T>(entry: KvEntry): RecordChange<T> {
  const dot = entry.key.indexOf(".");
  return {
    kind: entry.key.slice(0, dot) as ResourceKind,
    id: entry.key.slice(dot + 1),
    revision: entry.revision,
    value: entry.operation === "PUT" ? entry.json<T>() : undefined,
  };
}

/**
 * Sources and subscriptions as JSON records in a JetStream KV bucket, one key per record
 * (`sources.shop`). Changes are compare-and-set on the revision; `watch` gives the current records
 * and then every change, which is how gateways and the delivery process reload without a restart.
 */
export class ControlStore {
  private constructor(
    private readonly kv: KV,
    readonly writable: boolean,
  ) {}

  /** The hub's bucket, created when missing. */
  static async hub(js: JetStreamClient, opts: { replicas?: number } = {}): Promise<ControlStore> {
    return new ControlStore(await new Kvm(js).create(CONTROL_BUCKET, hubBucketOptions(opts)), true);
  }

  /** A region's mirror of the hub's bucket, created when missing (read-only). */
  static async regionMirror(
    js: JetStreamClient,
    region: string,
    opts: { replicas?: number } = {},
  ): Promise<ControlStore> {
    return new ControlStore(await new Kvm(js).create(CONTROL_BUCKET, regionMirrorOptions(region, opts)), false);
  }

  /**
   * The bucket as it is, without creating it: what least-privilege readers (a gateway on its
   * region's mirror, the delivery process and the management API at the hub) open, once the
   * provisioning has made it.
   */
  static async open(js: JetStreamClient, opts: { writable: boolean }): Promise<ControlStore> {
    return new ControlStore(await new Kvm(js).open(CONTROL_BUCKET), opts.writable);
  }

  async get<T>(kind: ResourceKind, id: string): Promise<StoredRecord<T> | undefined> {
    assertId(id);
    const entry = await this.kv.get(keyOf(kind, id));
    if (!entry || entry.operation !== "PUT") return undefined;
    return { kind, id, revision: entry.revision, value: entry.json<T>() };
  }

  async list<T>(kind: ResourceKind): Promise<StoredRecord<T>[]> {
    const entries = await this.#current(`${kind}.>`);
    return entries
      .map(([key, entry]) => ({
        kind,
        id: key.slice(kind.length + 1),
        revision: entry.revision,
        value: entry.json<T>(),
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The current value of every key matching `filter` (deleted and purged keys left out), read at
   * once: one listing of the keys, then their values side by side.
   */
  async #current(filter: string): Promise<Array<[string, KvEntry]>> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(filter)) keys.push(key);
    const entries = await Promise.all(keys.map((key) => this.kv.get(key)));
    return keys.flatMap((key, i) => {
      const entry = entries[i];
      return entry && entry.operation === "PUT" ? [[key, entry] as [string, KvEntry]] : [];
    });
  }

  /** Creates the record; refused with revision_conflict when it exists. */
  async create<T>(kind: ResourceKind, id: string, value: T): Promise<number> {
    this.#assertWritable();
    assertId(id);
    return this.#conflictsAsCodes(() => this.kv.create(keyOf(kind, id), JSON.stringify(value)), kind, id);
  }

  /** Replaces the record if it is still at `revision`. */
  async update<T>(kind: ResourceKind, id: string, value: T, revision: number): Promise<number> {
    this.#assertWritable();
    assertId(id);
    return this.#conflictsAsCodes(() => this.kv.update(keyOf(kind, id), JSON.stringify(value), revision), kind, id);
  }

  /** Deletes the record if it is still at `revision` (when given). */
  async delete(kind: ResourceKind, id: string, revision?: number): Promise<void> {
    this.#assertWritable();
    assertId(id);
    if (!(await this.get(kind, id))) throw new ControlStoreError("not_found", `no ${kind} record ${id}`);
    await this.#conflictsAsCodes(
      () => this.kv.delete(keyOf(kind, id), revision === undefined ? {} : { previousSeq: revision }),
      kind,
      id,
    );
  }

  /**
   * Calls `onChange` with every current record of `kind`, then with each change as it happens, until
   * `stop`. `ready` resolves once the current records have been delivered.
   */
  async watch<T>(
    kind: ResourceKind,
    onChange: (change: RecordChange<T>) => void,
  ): Promise<{ ready: Promise<void>; stop: () => void }> {
    let existing = 0;
    for await (const _key of await this.kv.keys(`${kind}.>`)) existing++;
    const iterator = await this.kv.watch({ key: `${kind}.>` });
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    if (existing === 0) markReady();
    void (async () => {
      for await (const entry of iterator) {
        onChange(recordOf<T>(entry));
        // The initial values end with the first entry that has nothing pending behind it.
        if (entry.delta === 0) markReady();
      }
    })();
    return { ready, stop: () => iterator.stop() };
  }

  /**
   * When the hub last saw an event verified with each secret of a source (`usage.<source>.<secret>`,
   * ISO times): kept apart from the source's record, so that marking a use never conflicts with an
   * edit (the record's revision is the API's If-Match).
   */
  async secretUses(source: string): Promise<Map<string, string>> {
    assertId(source);
    const prefix = `${USAGE_PREFIX}.${source}.`;
    const entries = await this.#current(`${prefix}>`);
    return new Map(entries.map(([key, entry]) => [key.slice(prefix.length), entry.string()]));
  }

  /** Records a secret's last use (the caller keeps it to the newest time, a few writes a minute). */
  async markSecretUsed(source: string, secretId: string, at: string): Promise<void> {
    this.#assertWritable();
    assertId(source);
    await this.kv.put(`${USAGE_PREFIX}.${source}.${secretId}`, at);
  }

  /** Forgets the uses of one secret, or of every secret of the source (retired, deleted). */
  async forgetSecretUses(source: string, secretId?: string): Promise<void> {
    this.#assertWritable();
    assertId(source);
    const keys: string[] = [];
    for await (const key of await this.kv.keys(`${USAGE_PREFIX}.${source}.${secretId ?? ">"}`)) keys.push(key);
    for (const key of keys) await this.kv.purge(key);
  }

  /** Every subscription's breaker report, by subscription id. */
  async breakerReports(): Promise<Map<string, BreakerReport>> {
    const prefix = `${CONTROL_HEALTH_PREFIX}.`;
    const entries = await this.#current(`${prefix}*`);
    return new Map(entries.map(([key, entry]) => [key.slice(prefix.length), entry.json<BreakerReport>()]));
  }

  /** One subscription's breaker report, when there is one. */
  async breakerReport(id: string): Promise<BreakerReport | undefined> {
    assertId(id);
    const entry = await this.kv.get(`${CONTROL_HEALTH_PREFIX}.${id}`);
    return entry && entry.operation === "PUT" ? entry.json<BreakerReport>() : undefined;
  }

  /** Writes a subscription's breaker report (the delivery process, a few times a minute at most). */
  async reportBreaker(id: string, report: BreakerReport): Promise<void> {
    this.#assertWritable();
    assertId(id);
    await this.kv.put(`${CONTROL_HEALTH_PREFIX}.${id}`, JSON.stringify(report));
  }

  #assertWritable(): void {
    if (!this.writable) throw new ControlStoreError("read_only", "this is a region's mirror of the control bucket");
  }

  async #conflictsAsCodes<R>(change: () => Promise<R>, kind: ResourceKind, id: string): Promise<R> {
    try {
      return await change();
    } catch (err) {
      // The server answers a failed compare-and-set with JetStream error 10071 (wrong last sequence).
      if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE)
        throw new ControlStoreError("revision_conflict", `${kind} ${id} is not at the revision given`, { cause: err });
      throw err;
    }
  }
}

function assertId(id: string): void {
  if (!ID_PATTERN.test(id))
    throw new ControlStoreError("invalid_id", `${JSON.stringify(id)} is not a valid id`, { field: "id" });
}

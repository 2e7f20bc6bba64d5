import { ControlStoreError, type ControlStore, type ResourceKind, type StoredRecord } from "@tributary/control";
import { ManagementError } from "./errors.js";

/**
 * Record changes with the API's codes: read, change, compare-and-set. With a revision from the
 * caller (If-Match) a conflict is the caller's to resolve; without one the change is re-applied to
 * the newest record a few times, as a read-modify-write by one person expects.
 */
export class Records {
  /** `store` answers undefined until the process is connected to the hub: control_unavailable meanwhile. */
  constructor(private readonly storeOf: () => ControlStore | undefined) {}

  private get store(): ControlStore {
    const store = this.storeOf();
    if (!store) throw new ManagementError("control_unavailable", "not connected to the control bucket yet");
    return store;
  }

  async get<T>(kind: ResourceKind, id: string): Promise<StoredRecord<T>> {
    const record = await this.store.get<T>(kind, id).catch(codes);
    if (!record) throw new ManagementError("resource_not_found", `no ${singular(kind)} ${id}`);
    return record;
  }

  list<T>(kind: ResourceKind): Promise<StoredRecord<T>[]> {
    return this.store.list<T>(kind).catch(codes);
  }

  async create<T>(kind: ResourceKind, id: string, value: T): Promise<StoredRecord<T>> {
    try {
      const revision = await this.store.create(kind, id, value);
      return { kind, id, revision, value };
    } catch (err) {
      if (err instanceof ControlStoreError && err.code === "revision_conflict")
        throw new ManagementError("already_exists", `${singular(kind)} ${id} exists`, { field: "id" });
      return codes(err);
    }
  }

  /** Applies `change` to the current value; returns the old and the new record. */
  async update<T>(
    kind: ResourceKind,
    id: string,
    change: (current: T) => T,
    ifMatch?: number,
  ): Promise<{ before: StoredRecord<T>; after: StoredRecord<T> }> {
    for (let attempt = 0; ; attempt++) {
      const before = await this.get<T>(kind, id);
      if (ifMatch !== undefined && before.revision !== ifMatch) throw conflict(kind, id);
      const value = change(before.value);
      try {
        const revision = await this.store.update(kind, id, value, before.revision);
        return { before, after: { kind, id, revision, value } };
      } catch (err) {
        const conflicted = err instanceof ControlStoreError && err.code === "revision_conflict";
        if (!conflicted) return codes(err);
        if (ifMatch !== undefined || attempt >= 3) throw conflict(kind, id);
      }
    }
  }

  /** When the hub last saw each of a source's secrets verify an event (secret id → ISO time). */
  secretUses(source: string): Promise<Map<string, string>> {
    return this.store.secretUses(source).catch(codes);
  }

  /** Drops the last-use marks of a retired secret, or of a deleted source's every secret. */
  forgetSecretUses(source: string, secretId?: string): Promise<void> {
    return this.store.forgetSecretUses(source, secretId).catch(codes);
  }

  async delete<T>(kind: ResourceKind, id: string, ifMatch?: number): Promise<StoredRecord<T>> {
    const before = await this.get<T>(kind, id);
    if (ifMatch !== undefined && before.revision !== ifMatch) throw conflict(kind, id);
    await this.store.delete(kind, id, before.revision).catch((err: unknown) => {
      if (err instanceof ControlStoreError && err.code === "revision_conflict") throw conflict(kind, id);
      return codes(err);
    });
    return before;
  }
}

function singular(kind: ResourceKind): string {
  return kind === "sources" ? "source" : "subscription";
}

function conflict(kind: ResourceKind, id: string): ManagementError {
  return new ManagementError("revision_conflict", `${singular(kind)} ${id} changed meanwhile`);
}

/** The store's own errors as API codes; anything else (NATS down, a timeout) is control_unavailable. */
function codes(err: unknown): never {
  if (err instanceof ManagementError) throw err;
  if (err instanceof ControlStoreError && err.code === "invalid_id")
    throw new ManagementError("invalid_resource", err.message, { field: "id" });
  if (err instanceof ControlStoreError && err.code === "not_found")
    throw new ManagementError("resource_not_found", err.message);
  throw new ManagementError("control_unavailable", "the control bucket did not answer", { cause: err });
}

/** The revision an `If-Match` header names (`"12"` or `12`), or undefined. */
export function ifMatchOf(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const n = Number(header.replace(/^W\//, "").replace(/"/g, ""));
  if (!Number.isSafeInteger(n) || n < 1)
    throw new ManagementError("invalid_resource", "If-Match must be a record's revision", { field: "If-Match" });
  return n;
}

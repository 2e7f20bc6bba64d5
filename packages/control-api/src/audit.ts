import { headers as natsHeaders } from "@nats-io/nats-core";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { AUDIT_STREAM, auditSubject, firstSeqAtOrAfter, nextBySubject } from "@tributary/streams";
import { ManagementError } from "./errors.js";
import type { Actor } from "./scopes.js";

/** One change to a control record. `before`/`after` are views: secret ids and dates, never values. */
export interface AuditRecord {
  seq?: number;
  at: string;
  actor: string;
  action: string;
  /** `dlq`: the loader's dead letters (id: the source), replayed or dropped. */
  kind: "sources" | "subscriptions" | "erasures" | "dlq";
  id: string;
  before?: unknown;
  after?: unknown;
  /** Details that are neither before nor after (a resend's count, a secret id added). */
  detail?: Record<string, unknown>;
}

/**
 * The audit log: every change published to the CONTROL_AUDIT stream (`audit.{kind}.{id}`) after it
 * was made. JetStream keeps it (a year by default) on the hub; reading walks it by sequence.
 */
export class AuditLog {
  constructor(
    private readonly nats: () => { js: JetStreamClient; jsm: JetStreamManager } | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get js(): JetStreamClient {
    return this.#connected().js;
  }

  private get jsm(): JetStreamManager {
    return this.#connected().jsm;
  }

  #connected(): { js: JetStreamClient; jsm: JetStreamManager } {
    const nats = this.nats();
    if (!nats) throw new ManagementError("control_unavailable", "not connected to the hub yet");
    return nats;
  }

  async record(actor: Actor, entry: Omit<AuditRecord, "at" | "actor" | "seq">): Promise<void> {
    const record: AuditRecord = { at: this.now().toISOString(), actor: actor.id, ...entry };
    const h = natsHeaders();
    h.set("Tributary-Actor", actor.id);
    await this.js.publish(auditSubject(entry.kind, entry.id), JSON.stringify(record), { headers: h });
  }

  /** Records oldest first, from `since` (or the start), of one kind and id when given, `limit` at most. */
  async list(filter: { kind?: string; id?: string; since?: Date; limit: number }): Promise<AuditRecord[]> {
    const subject = filter.kind ? auditSubject(filter.kind, filter.id ?? "*") : `${AUDIT_STREAM_SUBJECTS}`;
    let seq = filter.since ? await firstSeqAtOrAfter(this.jsm, AUDIT_STREAM, filter.since) : 1;
    const records: AuditRecord[] = [];
    while (seq !== undefined && records.length < filter.limit) {
      const m = await nextBySubject(this.jsm, AUDIT_STREAM, seq, subject);
      if (!m) break;
      records.push({ ...m.json<AuditRecord>(), seq: m.seq });
      seq = m.seq + 1;
    }
    return records;
  }
}

const AUDIT_STREAM_SUBJECTS = "audit.>";

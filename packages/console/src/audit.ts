import { unwrap, type Answer, type Api } from "./api/client";
import type { paths } from "./api/schema";

export type AuditRecord = Answer<"/v1/audit", "get", 200>["data"][number];
export type AuditQuery = NonNullable<paths["/v1/audit"]["get"]["parameters"]["query"]>;

const MAX = 1000;
const HOUR = 3_600_000;
/** How far back the newest records are looked for, widening until enough are found. */
const WINDOWS = [HOUR, 24 * HOUR, 7 * 24 * HOUR, 31 * 24 * HOUR, undefined];

/**
 * The newest `count` audit records, newest first. The audit log answers oldest first from `since`
 * (it has no "newest first" or "before"), so this reads forward from a recent instant, widening
 * the window (an hour, a day, a week, a month, everything) until it holds `count` records.
 */
export async function recentAudit(api: Api, count: number, now = Date.now()): Promise<AuditRecord[]> {
  let found: AuditRecord[] = [];
  for (const window of WINDOWS) {
    found = await readForward(api, window === undefined ? undefined : new Date(now - window).toISOString());
    if (found.length >= count) break;
  }
  return found.slice(-count).reverse();
}

/** Every record from `since` on (pages of a thousand, the next one from the last record's time). */
async function readForward(api: Api, since: string | undefined): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  let from = since;
  for (let pages = 0; pages < 20; pages++) {
    const query: AuditQuery = { limit: MAX, ...(from ? { since: from } : {}) };
    const { data } = unwrap(await api.GET("/v1/audit", { params: { query } }));
    const lastSeq = all.at(-1)?.seq ?? -1;
    const fresh = data.filter((r) => (r.seq ?? Infinity) > lastSeq);
    all.push(...fresh);
    if (data.length < MAX || fresh.length === 0) break;
    from = data.at(-1)!.at;
  }
  return all;
}

/** One field that a change touched: its dotted path, the value before and after (undefined: absent). */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out.set(prefix, value);
}

/** The fields that differ between a record's before and after views (arrays compared whole). */
export function diffFields(before: unknown, after: unknown): FieldChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, "", a);
  flatten(after, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p)))
    .map((path) => ({ path, before: a.get(path), after: b.get(path) }));
}

/** A value as a diff shows it: JSON, or "—" for absent. */
export function shownValue(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value);
}

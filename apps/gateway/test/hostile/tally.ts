import { GATEWAY_ERRORS } from "../../src/errors.js";
import type { RawAnswer } from "./raw-http.js";

/** The catalogue's 503s: the only 5xx a sender may see (ERRORS.md). */
const DOCUMENTED_503 = new Set(
  Object.entries(GATEWAY_ERRORS)
    .filter(([, e]) => e.status === 503)
    .map(([code]) => code),
);

export interface Judged {
  /** "202 accepted", "401 signature_missing", "closed", … */
  label: string;
  json: any;
  /** What is wrong with the answer as an answer of this gateway, whatever was expected. */
  problem?: string;
  /** A 503 the catalogue documents (worth retrying for a valid event). */
  retryable: boolean;
  /** A 503 overloaded from the pressure guard (event loop or heap), documented for any ingest request. */
  pressure: boolean;
}

/**
 * An answer as the table counts it, and what is wrong with it on its own terms: every refusal is
 * `{ error: { code, message } }` with a code of the catalogue and that code's status, a 503 carries
 * Retry-After, and no other 5xx exists.
 */
export function judge(answer: RawAnswer, head = false): Judged {
  if (answer.status === null)
    return { label: answer.ended ?? "closed", json: undefined, retryable: false, pressure: false };
  const { status } = answer;
  // An answer to HEAD has no body to hold a code.
  if (head) return { label: `${status} (HEAD)`, json: undefined, retryable: false, pressure: false };
  let json: any;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const code: unknown = json?.error?.code;
  const label =
    typeof code === "string"
      ? `${status} ${code}`
      : typeof json?.status === "string"
        ? `${status} ${json.status}`
        : `${status} (no code)`;
  const judged: Judged = { label, json, retryable: false, pressure: false };
  // A batch's failed items carry codes of the same catalogue.
  if (Array.isArray(json?.items))
    for (const item of json.items as Array<{ status?: string; code?: string }>)
      if (item.status === "error" && !(String(item.code) in GATEWAY_ERRORS))
        judged.problem = `batch item without a catalogued code: ${JSON.stringify(item).slice(0, 160)}`;
  if (status >= 400) {
    const entry = typeof code === "string" ? GATEWAY_ERRORS[code as keyof typeof GATEWAY_ERRORS] : undefined;
    if (entry === undefined) judged.problem = `refusal without a catalogued code: ${answer.body.slice(0, 160)}`;
    else if (entry.status !== status) judged.problem = `code ${String(code)} is ${entry.status} in the catalogue`;
    else if (typeof json.error.message !== "string") judged.problem = "refusal without a message";
    if (status >= 500 && !(status === 503 && DOCUMENTED_503.has(String(code))))
      judged.problem = `undocumented ${status}: ${answer.body.slice(0, 160)}`;
    if (status === 503) {
      const after = Number(answer.headers["retry-after"]);
      if (!(after > 0)) judged.problem = "503 without Retry-After";
      judged.retryable = true;
      const limit: unknown = json?.error?.details?.limit;
      judged.pressure = code === "overloaded" && (limit === "event_loop_delay" || limit === "heap_used");
    }
  }
  return judged;
}

interface Row {
  sent: number;
  bytes: number;
  outcomes: Map<string, number>;
  unexpected: number;
}

/** Counts per kind of request, and every unexpected answer (the first few kept with details). */
export class Tally {
  readonly rows = new Map<string, Row>();
  readonly unexpected: string[] = [];
  unexpectedCount = 0;
  /** Answers that are wrong on their own terms (no catalogued code, undocumented 5xx, …). */
  problems = 0;
  fiveHundreds = 0;
  pressureRefusals = 0;
  requests = 0;
  /** Every outcome over all kinds, by label. */
  readonly labels = new Map<string, number>();
  /** Refusals seen, by code (to compare with the gateway's own counters). */
  readonly refusals = new Map<string, number>();
  /** Exchanges that ended without an answer that names a code (closed, reset, HEAD). */
  withoutCode = 0;

  #row(kind: string): Row {
    let row = this.rows.get(kind);
    if (!row) this.rows.set(kind, (row = { sent: 0, bytes: 0, outcomes: new Map(), unexpected: 0 }));
    return row;
  }

  /** One exchange over a socket: its outcome, and whether it was one the case allows. */
  count(kind: string, bytes: number, judged: Judged, ok: boolean, detail = ""): void {
    const row = this.#row(kind);
    this.requests++;
    row.sent++;
    row.bytes += bytes;
    row.outcomes.set(judged.label, (row.outcomes.get(judged.label) ?? 0) + 1);
    this.labels.set(judged.label, (this.labels.get(judged.label) ?? 0) + 1);
    const code: unknown = judged.json?.error?.code;
    if (typeof code === "string") this.refused(code);
    else if (!/^[0-9]{3} [a-z]/.test(judged.label)) this.withoutCode++;
    if (Array.isArray(judged.json?.items))
      for (const item of judged.json.items as Array<{ status?: string; code?: string }>)
        if (item.status === "error") this.refused(String(item.code));
    if (judged.pressure) this.pressureRefusals++;
    if (/^5\d\d /.test(judged.label) && !judged.label.startsWith("503 ")) this.fiveHundreds++;
    if (judged.problem !== undefined) {
      this.problems++;
      ok = false;
    }
    if (!ok) {
      row.unexpected++;
      this.unexpectedCount++;
      if (this.unexpected.length < 25)
        this.unexpected.push(
          `${kind}: ${judged.label}${judged.problem ? ` (${judged.problem})` : ""} ${detail}`.trim(),
        );
    }
  }

  refused(code: string, n = 1): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + n);
  }

  /** The summary table, one row per kind, outcomes as "count × label". */
  render(): string {
    const lines: string[] = [];
    const kinds = [...this.rows.keys()].sort();
    const width = Math.max(...kinds.map((k) => k.length), 4);
    lines.push(`${"case".padEnd(width)}  ${"sent".padStart(6)}  ${"KiB".padStart(7)}  bad  outcomes`);
    let sent = 0;
    let bytes = 0;
    for (const kind of kinds) {
      const row = this.rows.get(kind)!;
      sent += row.sent;
      bytes += row.bytes;
      const outcomes = [...row.outcomes]
        .sort((a, b) => b[1] - a[1])
        .map(([label, n]) => `${n} × ${label}`)
        .join(", ");
      lines.push(
        `${kind.padEnd(width)}  ${String(row.sent).padStart(6)}  ${(row.bytes / 1024).toFixed(0).padStart(7)}  ${String(row.unexpected).padStart(3)}  ${outcomes}`,
      );
    }
    lines.push(
      `${"total".padEnd(width)}  ${String(sent).padStart(6)}  ${(bytes / 1024).toFixed(0).padStart(7)}  ${String(this.unexpectedCount).padStart(3)}`,
    );
    return lines.join("\n");
  }
}

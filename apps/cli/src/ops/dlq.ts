import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import {
  DLQ_STREAM,
  dlqEntryOf,
  dropDlqEntry,
  eventsDlqSummaryOf,
  findDlqEntry,
  headerRecord,
  readStreamRange,
  replayAndRemoveDlqEntry,
  type EventsDlqSummary,
} from "@tributary/streams";
import { connectAdmin, OperatorError, type OperatorContext } from "./context.js";

/** An entry as the CLI lists it: the shape the management API lists too (`@tributary/streams`). */
export type DlqSummary = EventsDlqSummary;

export interface DlqDetail extends DlqSummary {
  headers: Record<string, string[]>;
  /** The body as text (it is what the sender sent, verbatim). */
  body: string;
}

async function withDlq<T>(
  context: OperatorContext,
  fn: (jsm: JetStreamManager, nc: Awaited<ReturnType<typeof connectAdmin>>) => Promise<T>,
): Promise<T> {
  const nc = await connectAdmin(context, context.hub.url);
  try {
    return await fn(await jetstreamManager(nc, { checkAPI: false }), nc);
  } finally {
    await nc.close();
  }
}

/** The DLQ's entries, oldest first (`limit` of them), with their reasons. */
export async function listDlq(
  context: OperatorContext,
  opts: { limit?: number } = {},
): Promise<{ total: number; entries: DlqSummary[] }> {
  return withDlq(context, async (jsm, nc) => {
    const info = await jsm.streams.info(DLQ_STREAM);
    const entries: DlqSummary[] = [];
    const limit = opts.limit ?? 100;
    if (info.state.messages === 0) return { total: 0, entries };
    await readStreamRange(
      nc,
      { stream: DLQ_STREAM, fromSeq: info.state.first_seq, toSeq: info.state.last_seq },
      (msg) => {
        if (entries.length >= limit) return;
        const entry = dlqEntryOf({ seq: msg.seq, subject: msg.subject, headers: msg.headers!, data: msg.data });
        entries.push(eventsDlqSummaryOf(entry, msg.time));
      },
    );
    return { total: info.state.messages, entries };
  });
}

export async function showDlq(context: OperatorContext, seq: number): Promise<DlqDetail> {
  return withDlq(context, async (jsm) => {
    const found = await findDlqEntry(jsm, seq);
    if (!found)
      throw new OperatorError("not_found", `no DLQ entry with sequence ${seq} (\`tributary dlq list\` shows them)`);
    return {
      ...eventsDlqSummaryOf(found.entry, found.at),
      headers: headerRecord(found.entry.headers),
      body: new TextDecoder().decode(found.entry.data),
    };
  });
}

export interface DlqReplayResult {
  seq: number;
  replayed: boolean;
  /** Where the event went (the hub stream and its sequence), or why not. */
  to?: { stream: string; seq: number };
  error?: string;
}

/**
 * Puts entries back into the pipeline (optionally with a corrected body) and removes each from the
 * DLQ once the hub has it. Replaying again is harmless: the entry is gone, and the warehouse key
 * keeps the event to one row; one that fails again comes back to the DLQ with its new reason.
 */
export async function replayDlq(
  context: OperatorContext,
  seqs: number[],
  opts: { body?: Uint8Array } = {},
): Promise<DlqReplayResult[]> {
  return withDlq(context, async (jsm, nc) => {
    const js = jetstream(nc);
    const results: DlqReplayResult[] = [];
    for (const seq of seqs) {
      const found = await findDlqEntry(jsm, seq);
      if (!found) {
        results.push({ seq, replayed: false, error: "no such entry (already replayed or dropped?)" });
        continue;
      }
      results.push({ seq, replayed: true, to: await replayAndRemoveDlqEntry(js, jsm, found.entry, opts.body) });
    }
    return results;
  });
}

/** Deletes entries for good. */
export async function dropDlq(
  context: OperatorContext,
  seqs: number[],
): Promise<Array<{ seq: number; dropped: boolean }>> {
  return withDlq(context, async (jsm) => {
    const out: Array<{ seq: number; dropped: boolean }> = [];
    for (const seq of seqs) out.push({ seq, dropped: await dropDlqEntry(jsm, seq).catch(() => false) });
    return out;
  });
}

/** Every entry's sequence (for --all). */
export async function allDlqSeqs(context: OperatorContext): Promise<number[]> {
  const { entries } = await listDlq(context, { limit: Number.MAX_SAFE_INTEGER });
  return entries.map((e) => e.seq);
}

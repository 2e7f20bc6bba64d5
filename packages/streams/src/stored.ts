import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StoredMsg } from "@nats-io/jetstream";

/**
 * Reading stored messages one at a time (DLQ entries, replays): by sequence, the next of a subject,
 * the first at a time. Each answers null when there is no such message; other errors are thrown.
 */

type GetQuery = { seq: number } | { seq: number; next_by_subj: string } | { start_time: string; next_by_subj: string };

async function get(jsm: JetStreamManager, stream: string, query: GetQuery): Promise<StoredMsg | null> {
  try {
    // The client's typings offer `next_by_subj` and `start_time` only on direct get, which the DLQ
    // streams do not enable; the server's MSG.GET takes them.
    return await jsm.streams.getMessage(stream, query as { seq: number });
  } catch (err) {
    // The client answers null for "no message found"; a version that throws it means the same.
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return null;
    throw err;
  }
}

/** The message stored at `seq`, or null (never stored, deleted or aged out). */
export function storedMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | null> {
  return get(jsm, stream, { seq });
}

/** The next message of `subject` at or after `seq` (the server's `next_by_subj`); null at the end. */
export function nextBySubject(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  subject: string,
): Promise<StoredMsg | null> {
  return get(jsm, stream, { seq, next_by_subj: subject });
}

/** The first sequence of `stream` stored at or after `time`: one get-by-time request (nats-server >= 2.11). */
export async function firstSeqAtOrAfter(
  jsm: JetStreamManager,
  stream: string,
  time: Date,
): Promise<number | undefined> {
  // `next_by_subj` with the start time skips deleted sequences: the first stored message at or after it.
  const m = await get(jsm, stream, { start_time: time.toISOString(), next_by_subj: ">" });
  return m?.seq;
}

/** The server's "message delete failed", whatever the cause: a missing message among them. */
const MSG_DELETE_FAILED = 10057;

/** Deletes the message at `seq` (not erased: a DLQ entry is gone, not shredded); false when there is none. */
export async function deleteStoredMessage(
  jsm: JetStreamManager,
  stream: string,
  seq: number,
  opts: { erase?: boolean } = {},
): Promise<boolean> {
  try {
    // erase: the server overwrites the stored bytes too, not just the index (erasure asks for it).
    return await jsm.streams.deleteMessage(stream, seq, opts.erase ?? false);
  } catch (err) {
    // A missing message fails with the generic delete code ("no message found", "stream store EOF"
    // past the end): asked again by sequence, its absence is certain, and any other failure stays one.
    if (err instanceof JetStreamApiError && err.code === MSG_DELETE_FAILED && !(await storedMessage(jsm, stream, seq)))
      return false;
    throw err;
  }
}

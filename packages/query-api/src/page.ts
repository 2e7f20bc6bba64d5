import type { EventFilter, EventQueries, QueriedEvent } from "@tributary/warehouse";

/** What one page may hold by default: 8 MiB of events as stored, payloads included. */
export const DEFAULT_MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** Rows asked for first, before the size of a row is known: 16 of the largest (1 MiB) is 16 MiB. */
const FIRST_READ_ROWS = 16;

/** A row's size as the process holds it (its JSON, payload included). */
function sizeOf(row: QueriedEvent): number {
  return Buffer.byteLength(JSON.stringify(row));
}

/**
 * One page of events, newest load first, that stops at `limit` rows or at `maxBytes` of rows,
 * whichever comes first (always at least one row, so paging moves on). The warehouse is asked in
 * reads sized by the largest row seen so far, so no read brings in much more than the budget
 * holds: 1,000 rows of 1 MiB payloads would otherwise be a gigabyte in memory, in the process that
 * also loads the warehouse. Rows are counted with their payload whether or not the answer sends
 * it: the warehouse reads it either way.
 */
export async function readPage(
  queries: EventQueries,
  filter: EventFilter,
  page: { limit: number; startingAfter: number | undefined; maxBytes: number },
): Promise<{ rows: QueriedEvent[]; hasMore: boolean }> {
  const rows: QueriedEvent[] = [];
  let used = 0;
  let largest = 1;
  let startingAfter = page.startingAfter;
  let ask = Math.min(page.limit, FIRST_READ_ROWS);
  for (;;) {
    const read = await queries.listEvents(filter, { limit: ask, startingAfter });
    for (const [i, row] of read.rows.entries()) {
      const size = sizeOf(row);
      largest = Math.max(largest, size);
      // The budget is spent: the page ends before this row, which the next page starts with.
      if (rows.length > 0 && used + size > page.maxBytes) return { rows, hasMore: true };
      rows.push(row);
      used += size;
      if (rows.length === page.limit) return { rows, hasMore: read.hasMore || i < read.rows.length - 1 };
    }
    if (!read.hasMore || read.rows.length === 0) return { rows, hasMore: false };
    if (used >= page.maxBytes) return { rows, hasMore: true };
    startingAfter = read.rows.at(-1)!.load_seq;
    ask = Math.max(1, Math.min(page.limit - rows.length, Math.floor((page.maxBytes - used) / largest)));
  }
}

import type { DuckDBAppender } from "@duckdb/node-api";

/**
 * Closes an appender whatever happened to its rows; never throws. Closing flushes again: after a
 * failed flush it throws the error already being handled.
 */
export function closeQuietly(appender: DuckDBAppender): void {
  try {
    appender.closeSync();
  } catch {
    // The append's own error is the one that matters. But a close whose flush failed (a known key)
    // leaves the appender open with its rows: when the garbage collector destroyed it later, that
    // flush ran again inside whatever transaction the connection was in by then and aborted it
    // ("Current transaction is aborted"). Drop the rows, then close.
    try {
      appender.clear();
      appender.closeSync();
    } catch {
      // nothing more to do: the rows are gone or the connection is
    }
  }
}

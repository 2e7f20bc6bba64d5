import { aggregatorEndpoint, type OperatorContext } from "./context.js";
import { serviceJson } from "./http.js";

/** What the aggregator's `POST /v1/rollups/rebuild` answers: the tables recomputed and their rows. */
export interface RollupRebuild {
  /** The minute rebuilt from (null: all time). */
  since: string | null;
  /** Empty where the warehouse keeps no stored rollups (ClickHouse aggregates when asked). */
  tables: Array<{ table: string; rows: number }>;
  ms: number;
}

/**
 * `tributary rebuild rollups`: has the aggregator recompute the warehouse's rollups from its rows
 * (all of them, or from `since`'s minute on), through the same operator endpoint and token as
 * `tributary reconcile`. Loads wait while it runs.
 */
export function rebuildRollups(context: OperatorContext, options: { since?: Date } = {}): Promise<RollupRebuild> {
  return serviceJson<RollupRebuild>(aggregatorEndpoint(context), "/v1/rollups/rebuild", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(options.since ? { since: options.since.toISOString() } : {}),
  });
}

export function rebuildText(r: RollupRebuild): string {
  const from = r.since === null ? "all time" : `${r.since} on`;
  if (r.tables.length === 0)
    return `Nothing to rebuild (${from}): this warehouse keeps no stored rollups, its analytics are aggregated from the rows when asked.`;
  const lines = r.tables.map((t) => `  ${t.table}: ${t.rows} rows`);
  return [`Rebuilt from the rows (${from}) in ${r.ms} ms:`, ...lines].join("\n");
}

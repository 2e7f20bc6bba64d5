import { jetstreamManager } from "@nats-io/jetstream";
import { eraseRegionalCopies, purgeSourceFromRegion } from "@tributary/streams";
import type { ManagementApi } from "./api.js";
import { connectAdmin, OperatorError, regionOf, type OperatorContext } from "./context.js";

/** What `POST /v1/erasures` answers (packages/control-api erasure.ts). */
export interface ErasureResult {
  id: string;
  at: string;
  selector: "keys" | "source" | "visitor";
  rows: number;
  deliveries: number;
  streams: Record<string, number>;
  regional: { copies: Array<{ region: string; copies: Array<{ seq: number; event_key: string }> }>; sources: string[] };
}

/** What `tributary erase` asks for: exactly one of keys, a source or a visitor. */
export interface EraseRequest {
  keys?: string[];
  source?: string;
  visitor?: { ip: string; userAgent?: string; from?: string; to?: string };
  reason?: string;
}

/** The API's answer, and what the CLI did in the regions' streams. */
export interface EraseReport extends ErasureResult {
  /** Messages deleted (or purged) per region; null: the context has no admin access to the regions. */
  regionalDeleted: Record<string, number> | null;
}

export function eraseRequest(opts: {
  key?: string[];
  source?: string;
  visitorIp?: string;
  visitorUa?: string;
  from?: Date;
  to?: Date;
  reason?: string;
}): EraseRequest {
  const given = [
    opts.key?.length ? "--key" : "",
    opts.source ? "--source" : "",
    opts.visitorIp ? "--visitor-ip" : "",
  ].filter(Boolean);
  if (given.length !== 1)
    throw new OperatorError("bad_argument", "give exactly one of --key (repeatable), --source or --visitor-ip");
  if ((opts.visitorUa || opts.from || opts.to) && !opts.visitorIp)
    throw new OperatorError("bad_argument", "--visitor-ua, --from and --to go with --visitor-ip");
  return {
    ...(opts.key?.length ? { keys: opts.key } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.visitorIp
      ? {
          visitor: {
            ip: opts.visitorIp,
            ...(opts.visitorUa !== undefined ? { userAgent: opts.visitorUa } : {}),
            ...(opts.from ? { from: opts.from.toISOString() } : {}),
            ...(opts.to ? { to: opts.to.toISOString() } : {}),
          },
        }
      : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
  };
}

/**
 * Erases through the management API (warehouse rows, delivery log, the hub's copies and DLQ
 * entries, audited), then deletes the copies in each region's stream, which only an operator with
 * the regions' admin access reaches: by sequence, checking each holds the event named, or, for a
 * source, by purging its subjects. Without a context (an API given by URL) the regions' copies
 * are left to their streams' age limit, and the report says so.
 */
export async function erase(
  api: ManagementApi,
  context: () => OperatorContext | undefined,
  request: EraseRequest,
): Promise<EraseReport> {
  const result = await api.post<ErasureResult>("/v1/erasures", request);
  const ctx = context();
  if (!ctx) return { ...result, regionalDeleted: null };
  const deleted: Record<string, number> = {};
  const regions = new Set([
    ...result.regional.copies.map((c) => c.region),
    ...(result.regional.sources.length ? Object.keys(ctx.regions) : []),
  ]);
  for (const region of regions) {
    const nc = await connectAdmin(ctx, regionOf(ctx, region).url);
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      let n = 0;
      const copies = result.regional.copies.find((c) => c.region === region)?.copies ?? [];
      if (copies.length) n += await eraseRegionalCopies(jsm, region, copies);
      for (const source of result.regional.sources) n += await purgeSourceFromRegion(jsm, region, source);
      deleted[region] = n;
    } finally {
      await nc.close();
    }
  }
  return { ...result, regionalDeleted: deleted };
}

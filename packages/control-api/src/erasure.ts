import { randomBytes } from "node:crypto";
import type {} from "@fastify/swagger";
import { Type, type Static } from "@sinclair/typebox";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { OWN_AUTH } from "@tributary/runtime";
import { eraseHubCopies, purgeSourceFromHub, type StreamCounts } from "@tributary/streams";
import type { AuditLog } from "./audit.js";
import { ManagementError } from "./errors.js";
import { requireScope, type Actor } from "./scopes.js";
import { ErrorReply } from "./subscriptions.js";

/** Which rows an erasure covers, as the warehouse takes it. */
export type RowSelector = { keys: readonly string[] } | { source: string } | { visitorHashes: readonly string[] };

/** An erased row: where its stream copies are. */
export interface ErasedRow {
  event_key: string;
  source: string;
  event_type: string;
  region: string;
  region_seq: number;
  received_at: string;
}

/** What erasure needs of the process that owns the warehouse (the aggregator wires its sink and enricher). */
export interface ErasureBackend {
  /** The rows a key or visitor erasure would anonymise now; [] for a source. */
  findRows(selector: RowSelector): Promise<readonly ErasedRow[]>;
  eraseRows(
    selector: RowSelector,
    at: Date,
  ): Promise<{ rows: number; deliveries: number; events: readonly ErasedRow[] }>;
  /** The oldest receipt events retention keeps (a visitor's hashes are recomputed from there). */
  retainedSince(now: Date): Date | undefined;
  /** A visitor's `visitor_hash` per salt period under the current key; throws a coded error when it cannot. */
  visitorHashes(ip: string, userAgent: string | null, from: Date, to: Date): string[];
}

export interface ErasureDeps {
  backend: ErasureBackend;
  audit: AuditLog;
  nats: () => { js: JetStreamClient; jsm: JetStreamManager };
  now: () => Date;
}

/** Keys one request erases at most (a request can be repeated). */
export const MAX_ERASURE_KEYS = 10_000;
/** How far back a visitor's rows are looked for when no `from` is given and no events retention bounds them. */
export const DEFAULT_VISITOR_LOOKBACK_DAYS = 400;

const Key = Type.String({ minLength: 3, maxLength: 300, pattern: "^[a-z][a-z0-9_-]{0,31}:.+$" });
const ErasureRequest = Type.Object(
  {
    keys: Type.Optional(Type.Array(Key, { minItems: 1, maxItems: MAX_ERASURE_KEYS, description: "event keys" })),
    source: Type.Optional(Type.String({ pattern: "^[a-z][a-z0-9_-]{0,31}$", description: "every event of a source" })),
    visitor: Type.Optional(
      Type.Object(
        {
          ip: Type.String({ minLength: 2, maxLength: 64, description: "the client address as the sender sent it" }),
          userAgent: Type.Optional(
            Type.String({ maxLength: 2048, description: "the user agent as sent; absent: none was sent" }),
          ),
          from: Type.Optional(Type.String({ format: "date-time" })),
          to: Type.Optional(Type.String({ format: "date-time" })),
        },
        { additionalProperties: false },
      ),
    ),
    reason: Type.Optional(
      Type.String({ maxLength: 500, description: "why (a ticket, a request id): kept in the audit log" }),
    ),
  },
  { additionalProperties: false },
);
type ErasureRequest = Static<typeof ErasureRequest>;

const RegionalCopies = Type.Object({
  region: Type.String(),
  copies: Type.Array(Type.Object({ seq: Type.Integer(), event_key: Type.String() })),
});

const ErasureResult = Type.Object({
  id: Type.String(),
  at: Type.String(),
  selector: Type.String({ description: "keys, source or visitor" }),
  rows: Type.Integer({ description: "warehouse rows anonymised now" }),
  deliveries: Type.Integer({ description: "delivery log rows deleted" }),
  streams: Type.Record(Type.String(), Type.Integer(), { description: "hub messages deleted, per stream" }),
  regional: Type.Object({
    copies: Type.Array(RegionalCopies, {
      description: "copies in the regions' streams, by sequence: deleted by `tributary erase`, or aged out",
    }),
    sources: Type.Array(Type.String(), { description: "sources to purge from every region's stream" }),
  }),
});
export type ErasureResult = Static<typeof ErasureResult>;

function selectorKind(body: ErasureRequest): "keys" | "source" | "visitor" {
  const given = (["keys", "source", "visitor"] as const).filter((k) => body[k] !== undefined);
  if (given.length !== 1)
    throw new ManagementError("invalid_resource", "give exactly one of keys, source or visitor", {
      field: given.length === 0 ? "keys" : given[1]!,
    });
  return given[0]!;
}

/** A visitor's hashes: the backend's coded refusals become the API's. */
function visitorSelector(deps: ErasureDeps, visitor: NonNullable<ErasureRequest["visitor"]>, now: Date): RowSelector {
  const to = visitor.to ? new Date(visitor.to) : now;
  const from = visitor.from
    ? new Date(visitor.from)
    : (deps.backend.retainedSince(now) ?? new Date(now.getTime() - DEFAULT_VISITOR_LOOKBACK_DAYS * 86_400_000));
  if (from > to) throw new ManagementError("invalid_resource", "from is after to", { field: "visitor.from" });
  try {
    return { visitorHashes: deps.backend.visitorHashes(visitor.ip, visitor.userAgent ?? null, from, to) };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "visitor_hash_unavailable")
      throw new ManagementError("visitor_hash_unavailable", (err as Error).message, { cause: err });
    if (code === "enrich_range_too_long")
      throw new ManagementError("invalid_resource", (err as Error).message, { field: "visitor.from", cause: err });
    if (code === "enrich_config_invalid")
      throw new ManagementError("invalid_resource", (err as Error).message, { field: "visitor.ip", cause: err });
    throw err;
  }
}

function regionalCopies(events: readonly ErasedRow[]): ErasureResult["regional"]["copies"] {
  const byRegion = new Map<string, Array<{ seq: number; event_key: string }>>();
  for (const e of events) {
    const list = byRegion.get(e.region) ?? [];
    list.push({ seq: e.region_seq, event_key: e.event_key });
    byRegion.set(e.region, list);
  }
  return [...byRegion].map(([region, copies]) => ({ region, copies }));
}

/**
 * `POST /v1/erasures`: erase one or more events by key, every event of a source, or one visitor's
 * events (their address and user agent, matched through `visitor_hash` under the current key).
 * The warehouse rows are anonymised in place and their delivery log deleted; the hub's copies
 * holding a body (hub and enriched streams, the loader's and the destinations' DLQs) are deleted;
 * the regions' copies are listed for `tributary erase` (which reaches each region) or their
 * stream's age limit. Needs `admin`; audited under `erasures` with counts, never with the
 * visitor's address or user agent.
 */
export function registerErasureRoutes(app: FastifyInstance, deps: ErasureDeps): void {
  // One erasure at a time: each reads the streams through the one consumer name it may create.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };
  app.post<{ Body: ErasureRequest }>(
    "/v1/erasures",
    {
      config: { ...OWN_AUTH },
      schema: {
        tags: ["erasures"],
        body: ErasureRequest,
        response: { 200: ErasureResult, 400: ErrorReply, 403: ErrorReply, 409: ErrorReply, 503: ErrorReply },
      },
    },
    async (request) => {
      const actor = requireScope(request, "admin");
      const body = request.body;
      const kind = selectorKind(body);
      return oneAtATime(() => eraseNow(deps, actor, body, kind));
    },
  );
}

async function eraseNow(
  deps: ErasureDeps,
  actor: Actor,
  body: ErasureRequest,
  kind: "keys" | "source" | "visitor",
): Promise<ErasureResult> {
  const now = deps.now();
  const selector: RowSelector =
    kind === "keys"
      ? { keys: [...new Set(body.keys)] }
      : kind === "source"
        ? { source: body.source! }
        : visitorSelector(deps, body.visitor!, now);
  const { js, jsm } = deps.nats();
  // The stream copies first, the rows last: a failure half-way leaves rows unerased, so the
  // same request repeated finds them (and their copies) again. Rows loaded meanwhile are
  // erased with the rest, and their copies deleted after.
  let streams: StreamCounts;
  let erased: Awaited<ReturnType<ErasureBackend["eraseRows"]>>;
  if ("source" in selector) {
    streams = await purgeSourceFromHub(js, jsm, selector.source);
    erased = await deps.backend.eraseRows(selector, now);
  } else {
    const found = await deps.backend.findRows(selector);
    // Keys without a row can still have copies (a poison event in the loader's DLQ).
    const unloaded = "keys" in selector ? unloadedKeys(selector.keys, found) : [];
    streams = await eraseHubCopies(js, jsm, [...found, ...unloaded], {
      ...("visitorHashes" in selector ? { visitorHashes: selector.visitorHashes } : {}),
    });
    erased = await deps.backend.eraseRows(selector, now);
    const seen = new Set(found.map((e) => e.event_key));
    const late = erased.events.filter((e) => !seen.has(e.event_key));
    if (late.length > 0) addCounts(streams, await eraseHubCopies(js, jsm, late));
  }
  const result: ErasureResult = {
    id: `er_${randomBytes(8).toString("hex")}`,
    at: now.toISOString(),
    selector: kind,
    rows: erased.rows,
    deliveries: erased.deliveries,
    streams,
    regional: {
      copies: regionalCopies(erased.events),
      sources: "source" in selector ? [selector.source] : [],
    },
  };
  await deps.audit.record(actor, {
    kind: "erasures",
    id: result.id,
    action: "erase",
    detail: {
      selector: kind,
      ...("keys" in selector ? { keys: selector.keys.slice(0, 100), keyCount: selector.keys.length } : {}),
      ...("source" in selector ? { source: selector.source } : {}),
      ...("visitorHashes" in selector ? { periods: selector.visitorHashes.length } : {}),
      ...(body.reason ? { reason: body.reason } : {}),
      rows: result.rows,
      deliveries: result.deliveries,
      streams,
      regionalCopies: erased.events.length,
    },
  });
  return result;
}

/**
 * Keys the warehouse had no (unerased) row for, as copy references: their source from the key
 * (`{source}:{event id}`) and, without a receipt time, the whole retained window of each stream.
 */
function unloadedKeys(keys: readonly string[], found: readonly ErasedRow[]): ErasedRow[] {
  const have = new Set(found.map((e) => e.event_key));
  return keys
    .filter((k) => !have.has(k))
    .map((k) => ({
      event_key: k,
      source: k.slice(0, k.indexOf(":")),
      event_type: "",
      region: "",
      region_seq: 0,
      // The epoch: read each stream from its first message.
      received_at: new Date(0).toISOString(),
    }));
}

function addCounts(into: StreamCounts, more: StreamCounts): void {
  for (const [stream, n] of Object.entries(more)) into[stream] = (into[stream] ?? 0) + n;
}

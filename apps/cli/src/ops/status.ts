import { jetstreamManager, type StreamInfo } from "@nats-io/jetstream";
import {
  DLQ_STREAM,
  ENRICHED_STREAM,
  HUB_ENRICH_DURABLE,
  HUB_STREAM,
  outageBudgetSeconds,
  regionalStreamName,
} from "@tributary/streams";
import { aggregatorEndpoint, connectAdmin, type OperatorContext } from "./context.js";
import { serviceJson } from "./http.js";
import { destinationStatus, type DestinationStatus } from "./destinations.js";

export interface RegionStatus {
  region: string;
  stream: string;
  reachable: boolean;
  error?: string;
  messages?: number;
  bytes?: number;
  maxBytes?: number;
  /** bytes / max_bytes, 0–1 (null: unlimited). */
  fill?: number | null;
  lastSeq?: number;
  /** Events per second arriving while status looked (two readings `sampleMs` apart). */
  inputPerSecond?: number;
  outageBudgetSeconds?: number;
}

export interface HubStatus {
  reachable: boolean;
  error?: string;
  messages?: number;
  bytes?: number;
  sources: Array<{ region: string; lag: number; lastActiveSeconds: number | null; error?: string }>;
  /** The loader's consumer on the enriched stream. */
  consumer?: { name: string; pending: number; ackPending: number; redelivered: number };
  /** The enrich stage's consumer on the hub stream. */
  enrichStage?: { name: string; pending: number; ackPending: number; redelivered: number };
  dlqMessages?: number;
}

export interface WarehouseStatus {
  reachable: boolean;
  error?: string;
  rows?: number;
  newestReceivedAt?: string | null;
  newestLoadedAt?: string | null;
  /** Seconds from the newest loaded event's receipt to now: how stale the warehouse is. */
  lagSeconds?: number | null;
  /** Each table's rows, oldest row and retention, and the last retention pass (absent: an aggregator without it). */
  lifecycle?: WarehouseLifecycle;
}

export interface WarehouseLifecycle {
  tables: Array<{
    table: string;
    rows: number;
    oldest: string | null;
    retentionSeconds: number | null;
    enforcedBy: "delete" | "ttl" | null;
  }>;
  lastSweep: {
    at: string;
    removed?: { events: number; deliveries: number; rollups: number };
    error?: string;
  } | null;
}

/** Present when the context names a delivery process. */
export interface DeliveryStatus {
  reachable: boolean;
  error?: string;
  destinations?: DestinationStatus[];
}

export interface StatusReport {
  at: string;
  regions: RegionStatus[];
  hub: HubStatus;
  warehouse: WarehouseStatus;
  delivery?: DeliveryStatus;
}

const NS_PER_S = 1e9;

function fillOf(info: StreamInfo): number | null {
  return info.config.max_bytes > 0 ? info.state.bytes / info.config.max_bytes : null;
}

async function regionStatus(context: OperatorContext, region: string, sampleMs: number): Promise<RegionStatus> {
  const stream = regionalStreamName(region);
  try {
    const nc = await connectAdmin(context, context.regions[region]!.url);
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const first = await jsm.streams.info(stream);
      const startedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, sampleMs));
      const info = await jsm.streams.info(stream);
      const seconds = (Date.now() - startedAt) / 1000;
      const added = info.state.last_seq - first.state.last_seq;
      const avgBytes = info.state.messages > 0 ? info.state.bytes / info.state.messages : 0;
      return {
        region,
        stream,
        reachable: true,
        messages: info.state.messages,
        bytes: info.state.bytes,
        maxBytes: info.config.max_bytes,
        fill: fillOf(info),
        lastSeq: info.state.last_seq,
        inputPerSecond: added / seconds,
        outageBudgetSeconds: outageBudgetSeconds({
          bytes: info.state.bytes,
          maxBytes: info.config.max_bytes,
          maxAgeMs: (info.config.max_age ?? 0) / 1e6,
          ingressBytesPerSecond: (added * avgBytes) / seconds,
        }),
      };
    } finally {
      await nc.close();
    }
  } catch (err) {
    return { region, stream, reachable: false, error: (err as Error).message };
  }
}

async function hubStatus(context: OperatorContext): Promise<HubStatus> {
  try {
    const nc = await connectAdmin(context, context.hub.url);
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      const info = await jsm.streams.info(HUB_STREAM);
      const status: HubStatus = {
        reachable: true,
        messages: info.state.messages,
        bytes: info.state.bytes,
        sources: (info.sources ?? []).map((s) => ({
          region: s.name.replace(/^EVENTS_/, "").toLowerCase(),
          lag: s.lag,
          lastActiveSeconds: s.active >= 0 ? s.active / NS_PER_S : null,
          ...(s.error ? { error: s.error.description } : {}),
        })),
      };
      const stage = await jsm.consumers.info(HUB_STREAM, HUB_ENRICH_DURABLE).catch(() => undefined);
      if (stage)
        status.enrichStage = {
          name: HUB_ENRICH_DURABLE,
          pending: stage.num_pending,
          ackPending: stage.num_ack_pending,
          redelivered: stage.num_redelivered,
        };
      const consumer = await jsm.consumers.info(ENRICHED_STREAM, context.durable).catch(() => undefined);
      if (consumer)
        status.consumer = {
          name: context.durable,
          pending: consumer.num_pending,
          ackPending: consumer.num_ack_pending,
          redelivered: consumer.num_redelivered,
        };
      const dlq = await jsm.streams.info(DLQ_STREAM).catch(() => undefined);
      if (dlq) status.dlqMessages = dlq.state.messages;
      return status;
    } finally {
      await nc.close();
    }
  } catch (err) {
    return { reachable: false, error: (err as Error).message, sources: [] };
  }
}

async function warehouseStatus(context: OperatorContext): Promise<WarehouseStatus> {
  try {
    const stats = await serviceJson<{ rows: number; newest?: { received_at: string; loaded_at: string } | null }>(
      aggregatorEndpoint(context),
      "/v1/stats",
      { timeoutMs: 5_000 },
    );
    const newest = stats.newest ?? null;
    // An aggregator before the lifecycle route answers 404: the section is left out.
    const lifecycle = await serviceJson<WarehouseLifecycle>(aggregatorEndpoint(context), "/v1/lifecycle", {
      timeoutMs: 5_000,
    }).catch(() => undefined);
    return {
      reachable: true,
      ...(lifecycle ? { lifecycle } : {}),
      rows: stats.rows,
      newestReceivedAt: newest?.received_at ?? null,
      newestLoadedAt: newest?.loaded_at ?? null,
      lagSeconds: newest ? Math.max(0, (Date.now() - Date.parse(newest.received_at)) / 1000) : null,
    };
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}

async function deliveryStatus(context: OperatorContext): Promise<DeliveryStatus> {
  try {
    return { reachable: true, destinations: await destinationStatus(context) };
  } catch (err) {
    return { reachable: false, error: (err as Error).message };
  }
}

/** Everything `tributary status` shows, read in parallel (each part reports its own failure). */
export async function collectStatus(context: OperatorContext, opts: { sampleMs?: number } = {}): Promise<StatusReport> {
  const sampleMs = opts.sampleMs ?? 1000;
  const [regions, hub, warehouse, delivery] = await Promise.all([
    Promise.all(Object.keys(context.regions).map((r) => regionStatus(context, r, sampleMs))),
    hubStatus(context),
    warehouseStatus(context),
    context.deliveryUrl ? deliveryStatus(context) : undefined,
  ]);
  return { at: new Date().toISOString(), regions, hub, warehouse, ...(delivery ? { delivery } : {}) };
}

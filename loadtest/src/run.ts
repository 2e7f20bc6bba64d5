import { totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { account, type Accounting, type Ledger } from "./accounting.js";
import { CpuSampler, type CpuReport } from "./cpu.js";
import { FAULT_DESCRIPTIONS, injectFault, systemNeeds, type FaultKind, type FaultMark } from "./faults.js";
import { Sender } from "./sender.js";
import { percentileMs, Timeline } from "./stats.js";
import { startLocalSystem, type LocalSystem } from "./system.js";
import { requestRate, type Thresholds, type Tier, type TiersFile } from "./tiers.js";
import { Workload } from "./workload.js";

export const DEFAULT_MAX_IN_FLIGHT = 20_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 150_000;
export const DEFAULT_FAULT_HOLD_MS = 5_000;

export interface RunOptions {
  tiers: TiersFile;
  tier: Tier;
  fault?: FaultKind | undefined;
  /** Overrides the tier's duration (seconds). */
  durationSeconds?: number | undefined;
  /** Overrides the tier's rate (events/s). */
  rate?: number | undefined;
  /** When the fault starts (ms after the first send; default a third of the duration) and how long it lasts. */
  faultAtMs?: number | undefined;
  faultHoldMs?: number | undefined;
  /** Requests in flight at most; arrivals beyond it are counted as dropped, never delayed silently. */
  maxInFlight?: number | undefined;
  drainTimeoutMs?: number | undefined;
  seed?: number | undefined;
  /** Called once a second with a progress line. */
  progress?: ((line: string) => void) | undefined;
  output?: "inherit" | "buffer" | undefined;
  /** `always`: every nats-server fsyncs each write before its PubAck (power-loss durability). */
  fsync?: "always" | "lazy" | undefined;
  /** 3: region us runs as a 3-node cluster with R3 streams (node-kill always does). */
  usReplicas?: 1 | 3 | undefined;
}

/** The NATS set-up a run had, in its report and its file name (`-r3`, `-fsync`). */
export function natsSetup(opts: Pick<RunOptions, "fsync" | "usReplicas" | "fault">): {
  usReplicas: 1 | 3;
  fsync: "always" | "lazy";
  suffix: string;
} {
  const usReplicas = opts.usReplicas ?? (opts.fault === "node-kill" ? 3 : 1);
  const fsync = opts.fsync ?? "lazy";
  const suffix = `${usReplicas === 3 && opts.fault !== "node-kill" ? "-r3" : ""}${fsync === "always" ? "-fsync" : ""}`;
  return { usReplicas, fsync, suffix };
}

export interface Check {
  name: string;
  limit: string;
  value: string;
  pass: boolean;
}

export interface Latency {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface RunReport {
  tier: string;
  range: string;
  fault: {
    kind: FaultKind;
    description: string;
    startSecond: number;
    downSecond: number;
    endSecond: number;
    holdSeconds: number;
  } | null;
  machine: { cores: number; memoryGiB: number; node: string };
  durability: string;
  /** Region us's stream replicas and the servers' fsync mode. */
  nats: { usReplicas: 1 | 3; fsync: "always" | "lazy" };
  warehouse: string;
  durationSeconds: number;
  offered: {
    events: number;
    eventsPerSecond: number;
    requests: number;
    requestsPerSecond: number;
    singles: number;
    batches: number;
    resends: number;
  };
  achieved: { events: number; eventsPerSecond: number; lastAckSecond: number };
  /** Arrivals not sent because maxInFlight requests were already waiting (the driver's own backlog bound). */
  dropped: { requests: number; events: number };
  answers: Record<string, number>;
  statusClasses: { "202": number; "200": number; "4xx": number; "5xx": number; network: number };
  failedEvents: number;
  ackMs: Latency;
  e2eMs: Latency;
  drain: { drained: boolean; seconds: number };
  accounting: Accounting;
  cpu: CpuReport;
  thresholds: Thresholds;
  checks: Check[];
  pass: boolean;
}

/** The report (JSON-able) and what the plot is drawn from. */
export interface RunResult {
  report: RunReport;
  timeline: Timeline;
  faultMark: FaultMark | undefined;
}

function latencyOf(h: Timeline["ack"]): Latency {
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    p50: round(percentileMs(h, 50)),
    p95: round(percentileMs(h, 95)),
    p99: round(percentileMs(h, 99)),
    max: h.totalCount ? round(h.maxValue / 1000) : null,
  };
}

async function aggregatorRows(system: LocalSystem): Promise<number | undefined> {
  try {
    const res = await fetch(`${system.topology.aggregatorUrl}/v1/stats`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { rows: number }).rows;
  } catch {
    return undefined;
  }
}

/** Waits until every acknowledged key can be in the warehouse: hub consumer empty, rows at least the acknowledged count and stable. */
async function waitForDrain(
  system: LocalSystem,
  expected: number,
  timeoutMs: number,
  progress: (line: string) => void,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastRows = -1;
  let stableSince = 0;
  while (Date.now() < deadline) {
    const rows = await aggregatorRows(system);
    const backlog = await system.hubBacklog().catch(() => undefined);
    progress(
      `draining: warehouse rows ${rows ?? "?"} of ${expected} acknowledged keys, hub consumer pending ${backlog?.pending ?? "?"} / unacked ${backlog?.ackPending ?? "?"}`,
    );
    if (rows !== undefined && rows !== lastRows) {
      lastRows = rows;
      stableSince = Date.now();
    }
    if (
      rows !== undefined &&
      rows >= expected &&
      backlog?.pending === 0 &&
      backlog.ackPending === 0 &&
      Date.now() - stableSince >= 1_500
    )
      return true;
    await sleep(500);
  }
  return false;
}

function check(name: string, value: number | null, limit: number, unit = "", le = true): Check {
  const pass = value !== null && (le ? value <= limit : value >= limit);
  return { name, limit: `${le ? "≤" : "≥"} ${limit}${unit}`, value: value === null ? "n/a" : `${value}${unit}`, pass };
}

/**
 * One load run against a fresh local system: open-loop arrivals at the tier's rate for its
 * duration (optionally with one fault), then drain, count the warehouse, evaluate thresholds.
 */
export async function runLoadTest(opts: RunOptions): Promise<RunResult> {
  const tier: Tier = {
    ...opts.tier,
    rate: opts.rate ?? opts.tier.rate,
    durationSeconds: opts.durationSeconds ?? opts.tier.durationSeconds,
  };
  const thresholds = opts.fault ? tier.faultThresholds : tier.thresholds;
  const progress = opts.progress ?? (() => undefined);
  const needs = systemNeeds(opts.fault);
  const nats = natsSetup(opts);
  const cluster = needs.cluster ?? (nats.usReplicas === 3 ? { size: 3, regions: ["us"], hub: false } : undefined);
  progress(
    `starting the local system (hub + regions us${nats.usReplicas === 3 ? " (3 nodes, R3)" : ""}, eu, gateways, aggregator → ${needs.warehouse}; fsync ${nats.fsync})…`,
  );
  const system = await startLocalSystem({
    ...needs,
    ...(cluster ? { cluster } : {}),
    ...(nats.fsync === "always" ? { syncInterval: "always" as const } : {}),
    output: opts.output ?? "buffer",
  });
  try {
    const reqRate = requestRate(tier);
    const totalRequests = Math.max(1, Math.round(reqRate * tier.durationSeconds));
    const intervalMs = 1000 / reqRate;
    const gateways = new Map([...system.topology.regions.values()].map((r) => [r.region, r.gatewayUrl] as const));
    const run = `lt${Date.now().toString(36)}`;
    const workload = new Workload(opts.tiers, tier, [...gateways.keys()], run, opts.seed ?? 1);
    const startMs = Date.now() + 100;
    const timeline = new Timeline(startMs);
    const sender = new Sender(gateways, system.secret, timeline);
    const ledger: Ledger = { attempted: new Set(), acknowledged: new Set(), failed: new Set() };
    const cpu = new CpuSampler(() => system.processes());
    const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const inFlight = new Set<Promise<void>>();
    const counts = {
      singles: 0,
      batches: 0,
      resends: 0,
      offeredEvents: 0,
      droppedRequests: 0,
      droppedEvents: 0,
      ackedEvents: 0,
      lastAckMs: startMs,
    };

    let fault: Promise<FaultMark> | undefined;
    const faultAt = startMs + (opts.faultAtMs ?? Math.round((tier.durationSeconds * 1000) / 3));
    let faultActive = false;
    const ticker = setInterval(() => {
      cpu.sample();
      const sec = Math.floor((Date.now() - startMs) / 1000);
      const last = timeline.seconds[Math.max(0, sec - 1)];
      const p99 = last ? percentileMs(last.ack, 99) : null;
      progress(
        `[${tier.name}${opts.fault ? ` + ${opts.fault}` : ""}] ${Math.min(sec, tier.durationSeconds)}/${tier.durationSeconds}s  ` +
          `offered ${last?.offeredEvents ?? 0}/s  acked ${last?.ackedEvents ?? 0}/s  in flight ${inFlight.size}  ` +
          `ack p99 ${p99 === null ? "-" : p99.toFixed(1)} ms  202 ${timeline.countOf("202")}  200 ${timeline.countOf("200")}  ` +
          `4xx ${timeline.countOf("4")}  5xx ${timeline.countOf("5")}  dropped ${counts.droppedRequests}` +
          (faultActive ? `  FAULT ${opts.fault} active` : ""),
      );
    }, 1_000);
    ticker.unref();
    cpu.start();

    for (let i = 0; i < totalRequests;) {
      const now = Date.now();
      if (opts.fault && !fault && now >= faultAt) {
        faultActive = true;
        fault = injectFault(system, opts.fault, opts.faultHoldMs ?? DEFAULT_FAULT_HOLD_MS).finally(
          () => (faultActive = false),
        );
      }
      for (; i < totalRequests && startMs + i * intervalMs <= now; i++) {
        const intended = startMs + i * intervalMs;
        const req = workload.next();
        counts.offeredEvents += req.events.length;
        counts[req.kind === "single" ? "singles" : req.kind === "batch" ? "batches" : "resends"]++;
        timeline.offered(intended, req.events.length);
        if (inFlight.size >= maxInFlight) {
          counts.droppedRequests++;
          counts.droppedEvents += req.events.length;
          continue;
        }
        for (const e of req.events) ledger.attempted.add(e.key);
        const p: Promise<void> = sender.send(req, intended).then((outcome) => {
          for (const e of outcome.acked) ledger.acknowledged.add(e.key);
          for (const e of outcome.failed) ledger.failed.add(e.key);
          if (outcome.acked.length > 0) {
            const done = Date.now();
            counts.ackedEvents += outcome.acked.length;
            counts.lastAckMs = Math.max(counts.lastAckMs, done);
            timeline.acknowledged(done, outcome.latencyMs, outcome.acked.length);
          }
          if (outcome.failed.length === 0) workload.acknowledged(req);
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      const next = startMs + i * intervalMs - Date.now();
      await sleep(Math.max(1, Math.min(10, next)));
    }
    await Promise.all(inFlight);
    const faultMark = fault ? await fault : undefined;
    cpu.sample();
    clearInterval(ticker);
    await sender.close();
    const cpuReport = cpu.report();

    // A key refused in one request and acknowledged in another (a resend) is acknowledged.
    for (const k of ledger.acknowledged) ledger.failed.delete(k);
    const drainStart = Date.now();
    const drained = await waitForDrain(
      system,
      ledger.acknowledged.size,
      opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      progress,
    );
    const drainSeconds = (Date.now() - drainStart) / 1000;
    progress("reading the warehouse…");
    const accounting = await account(system, ledger, timeline);

    const offeredEvents = counts.offeredEvents;
    const sendSeconds = Math.max(0.001, (counts.lastAckMs - startMs) / 1000);
    const ack = latencyOf(timeline.ack);
    const e2e = latencyOf(timeline.e2e);
    const errorEvents = ledger.failed.size + counts.droppedEvents;
    const errorRate = offeredEvents ? errorEvents / offeredEvents : 0;
    const checks: Check[] = [
      check(
        "error rate (failed after retries + dropped) / offered",
        Math.round(errorRate * 1e6) / 1e6,
        thresholds.errorRate,
      ),
      check("ack p95", ack.p95, thresholds.ackP95Ms, " ms"),
      check("ack p99", ack.p99, thresholds.ackP99Ms, " ms"),
      check("e2e p99", e2e.p99, thresholds.e2eP99Ms, " ms"),
      { name: "drained within the timeout", limit: "yes", value: drained ? "yes" : "no", pass: drained },
      check("missing (acknowledged, no row)", accounting.missing, 0),
      check("doubled keys", accounting.doubledKeys, 0),
      check("doubled events (rows per data.lt.seq)", accounting.doubledEvents, 0),
      check("unexpected rows (keys never sent)", accounting.unexpected, 0),
      ...(accounting.physicalCopies === null
        ? []
        : [check("ClickHouse physical copies (before FINAL)", accounting.physicalCopies, 0)]),
    ];
    const answers = Object.fromEntries([...timeline.answers].sort());
    const report: RunReport = {
      tier: tier.name,
      range: tier.range,
      fault: faultMark
        ? {
            kind: faultMark.kind,
            description: FAULT_DESCRIPTIONS[faultMark.kind],
            startSecond: (faultMark.startMs - startMs) / 1000,
            downSecond: (faultMark.downMs - startMs) / 1000,
            endSecond: (faultMark.endMs - startMs) / 1000,
            holdSeconds: (opts.faultHoldMs ?? DEFAULT_FAULT_HOLD_MS) / 1000,
          }
        : null,
      machine: { cores: cpuReport.cores, memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version },
      durability:
        nats.fsync === "always"
          ? "sync_interval: always: every nats-server fsyncs each write before its PubAck; a 202 survives power loss"
          : "nats-server default: JetStream fsyncs lazily (sync_interval not set, 2 min); a 202 survives a process kill, not power loss",
      nats: { usReplicas: nats.usReplicas, fsync: nats.fsync },
      warehouse: system.warehouse,
      durationSeconds: tier.durationSeconds,
      offered: {
        events: offeredEvents,
        eventsPerSecond: Math.round((offeredEvents / tier.durationSeconds) * 10) / 10,
        requests: totalRequests,
        requestsPerSecond: Math.round(reqRate * 10) / 10,
        singles: counts.singles,
        batches: counts.batches,
        resends: counts.resends,
      },
      achieved: {
        events: counts.ackedEvents,
        eventsPerSecond: Math.round((counts.ackedEvents / Math.max(sendSeconds, tier.durationSeconds)) * 10) / 10,
        lastAckSecond: Math.round(sendSeconds * 10) / 10,
      },
      dropped: { requests: counts.droppedRequests, events: counts.droppedEvents },
      answers,
      statusClasses: {
        "202": timeline.countOf("202"),
        "200": timeline.countOf("200"),
        "4xx": timeline.countOf("4"),
        "5xx": timeline.countOf("5"),
        network: timeline.countOf("network"),
      },
      failedEvents: ledger.failed.size,
      ackMs: ack,
      e2eMs: e2e,
      drain: { drained, seconds: Math.round(drainSeconds * 10) / 10 },
      accounting,
      cpu: cpuReport,
      thresholds,
      checks,
      pass: checks.every((c) => c.pass),
    };
    return { report, timeline, faultMark };
  } finally {
    await system.stop();
  }
}

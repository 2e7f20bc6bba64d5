import { totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { account, type Accounting } from "./accounting.js";
import type { CpuReport } from "./cpu.js";
import { LoadDriver, type Drive } from "./driver.js";
import { FAULT_DESCRIPTIONS, systemNeeds, type FaultKind, type FaultMark } from "./faults.js";
import { percentileMs, type Timeline } from "./stats.js";
import { startLocalSystem, type LocalSystem } from "./system.js";
import type { Thresholds, Tier, TiersFile } from "./tiers.js";

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

/** The tier as this run runs it: the command line's rate and duration over the tier's own. */
function effectiveTier(opts: RunOptions): Tier {
  return {
    ...opts.tier,
    rate: opts.rate ?? opts.tier.rate,
    durationSeconds: opts.durationSeconds ?? opts.tier.durationSeconds,
  };
}

/** A fresh local system with what the fault needs (a cuttable link, ClickHouse, a cluster) and the run's NATS set-up. */
async function startSystemFor(opts: RunOptions, progress: (line: string) => void): Promise<LocalSystem> {
  const needs = systemNeeds(opts.fault);
  const nats = natsSetup(opts);
  const cluster = needs.cluster ?? (nats.usReplicas === 3 ? { size: 3, regions: ["us"], hub: false } : undefined);
  progress(
    `starting the local system (hub + regions us${nats.usReplicas === 3 ? " (3 nodes, R3)" : ""}, eu, gateways, aggregator → ${needs.warehouse}; fsync ${nats.fsync})…`,
  );
  return startLocalSystem({
    ...needs,
    ...(cluster ? { cluster } : {}),
    ...(nats.fsync === "always" ? { syncInterval: "always" as const } : {}),
    output: opts.output ?? "buffer",
  });
}

/** After the last answer: waits for the warehouse to hold every acknowledged key, then reads it. */
async function drainAndCount(
  system: LocalSystem,
  drive: Drive,
  opts: RunOptions,
  progress: (line: string) => void,
): Promise<{ drained: boolean; drainSeconds: number; accounting: Accounting }> {
  const drainStart = Date.now();
  const drained = await waitForDrain(
    system,
    drive.ledger.acknowledged.size,
    opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    progress,
  );
  const drainSeconds = (Date.now() - drainStart) / 1000;
  progress("reading the warehouse…");
  const accounting = await account(system, drive.ledger, drive.timeline);
  return { drained, drainSeconds, accounting };
}

/** The thresholds' checks: errors, latency, the drain, and the zero-loss accounting. */
function checksOf(
  drive: Drive,
  thresholds: Thresholds,
  outcome: { drained: boolean; accounting: Accounting },
): { checks: Check[]; ack: Latency; e2e: Latency } {
  const { counts, ledger, timeline } = drive;
  const { drained, accounting } = outcome;
  const ack = latencyOf(timeline.ack);
  const e2e = latencyOf(timeline.e2e);
  const errorEvents = ledger.failed.size + counts.droppedEvents;
  const errorRate = counts.offeredEvents ? errorEvents / counts.offeredEvents : 0;
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
  return { checks, ack, e2e };
}

/** The fault as the report shows it: seconds from the first send. */
function faultOf(mark: FaultMark | undefined, startMs: number, holdMs: number): RunReport["fault"] {
  if (!mark) return null;
  return {
    kind: mark.kind,
    description: FAULT_DESCRIPTIONS[mark.kind],
    startSecond: (mark.startMs - startMs) / 1000,
    downSecond: (mark.downMs - startMs) / 1000,
    endSecond: (mark.endMs - startMs) / 1000,
    holdSeconds: holdMs / 1000,
  };
}

/** The run's report, JSON-able. */
function reportOf(
  opts: RunOptions,
  tier: Tier,
  system: LocalSystem,
  drive: Drive,
  outcome: { drained: boolean; drainSeconds: number; accounting: Accounting },
): RunReport {
  const { counts, timeline, cpu } = drive;
  const thresholds = opts.fault ? tier.faultThresholds : tier.thresholds;
  const nats = natsSetup(opts);
  const { checks, ack, e2e } = checksOf(drive, thresholds, outcome);
  const sendSeconds = Math.max(0.001, (counts.lastAckMs - drive.startMs) / 1000);
  return {
    tier: tier.name,
    range: tier.range,
    fault: faultOf(drive.faultMark, drive.startMs, opts.faultHoldMs ?? DEFAULT_FAULT_HOLD_MS),
    machine: { cores: cpu.cores, memoryGiB: Math.round(totalmem() / 1024 ** 3), node: process.version },
    durability:
      nats.fsync === "always"
        ? "sync_interval: always: every nats-server fsyncs each write before its PubAck; a 202 survives power loss"
        : "nats-server default: JetStream fsyncs lazily (sync_interval not set, 2 min); a 202 survives a process kill, not power loss",
    nats: { usReplicas: nats.usReplicas, fsync: nats.fsync },
    warehouse: system.warehouse,
    durationSeconds: tier.durationSeconds,
    offered: {
      events: counts.offeredEvents,
      eventsPerSecond: Math.round((counts.offeredEvents / tier.durationSeconds) * 10) / 10,
      requests: drive.totalRequests,
      requestsPerSecond: Math.round(drive.requestRate * 10) / 10,
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
    answers: Object.fromEntries([...timeline.answers].sort()),
    statusClasses: {
      "202": timeline.countOf("202"),
      "200": timeline.countOf("200"),
      "4xx": timeline.countOf("4"),
      "5xx": timeline.countOf("5"),
      network: timeline.countOf("network"),
    },
    failedEvents: drive.ledger.failed.size,
    ackMs: ack,
    e2eMs: e2e,
    drain: { drained: outcome.drained, seconds: Math.round(outcome.drainSeconds * 10) / 10 },
    accounting: outcome.accounting,
    cpu,
    thresholds,
    checks,
    pass: checks.every((c) => c.pass),
  };
}

/**
 * One load run against a fresh local system: open-loop arrivals at the tier's rate for its
 * duration (optionally with one fault), then drain, count the warehouse, evaluate thresholds.
 */
export async function runLoadTest(opts: RunOptions): Promise<RunResult> {
  const tier = effectiveTier(opts);
  const progress = opts.progress ?? (() => undefined);
  const system = await startSystemFor(opts, progress);
  try {
    const drive = await new LoadDriver(system, {
      tiers: opts.tiers,
      tier,
      fault: opts.fault,
      faultAtMs: opts.faultAtMs ?? Math.round((tier.durationSeconds * 1000) / 3),
      faultHoldMs: opts.faultHoldMs ?? DEFAULT_FAULT_HOLD_MS,
      maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
      seed: opts.seed ?? 1,
      progress,
    }).run();
    const outcome = await drainAndCount(system, drive, opts, progress);
    return {
      report: reportOf(opts, tier, system, drive, outcome),
      timeline: drive.timeline,
      faultMark: drive.faultMark,
    };
  } finally {
    await system.stop();
  }
}

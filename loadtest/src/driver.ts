import { setTimeout as sleep } from "node:timers/promises";
import type { Ledger } from "./accounting.js";
import { CpuSampler, type CpuReport } from "./cpu.js";
import { injectFault, type FaultKind, type FaultMark } from "./faults.js";
import { Sender } from "./sender.js";
import { percentileMs, Timeline } from "./stats.js";
import type { LocalSystem } from "./system.js";
import { requestRate, type Tier, type TiersFile } from "./tiers.js";
import { Workload, type PlannedRequest } from "./workload.js";

/** What a run offered, sent, dropped and got acknowledged. */
export interface DriveCounts {
  singles: number;
  batches: number;
  resends: number;
  offeredEvents: number;
  droppedRequests: number;
  droppedEvents: number;
  ackedEvents: number;
  lastAckMs: number;
}

/** The driving phase's outcome: every answer in the timeline and the ledger, the fault as it happened. */
export interface Drive {
  startMs: number;
  /** Requests per second offered, and how many in all. */
  requestRate: number;
  totalRequests: number;
  timeline: Timeline;
  ledger: Ledger;
  counts: DriveCounts;
  faultMark: FaultMark | undefined;
  cpu: CpuReport;
}

export interface DriveOptions {
  tiers: TiersFile;
  tier: Tier;
  fault: FaultKind | undefined;
  /** When the fault starts (ms after the first send) and how long it lasts. */
  faultAtMs: number;
  faultHoldMs: number;
  /** Requests in flight at most; arrivals beyond it are counted as dropped, never delayed silently. */
  maxInFlight: number;
  seed: number;
  progress: (line: string) => void;
}

/**
 * Open-loop arrivals at the tier's request rate for its duration: each request is sent at its
 * intended time whatever the answers to earlier ones (so a slow system shows as latency and
 * drops, not as a lower offered rate), with the fault injected once on the way.
 */
export class LoadDriver {
  readonly #system: LocalSystem;
  readonly #opts: DriveOptions;
  readonly #startMs = Date.now() + 100;
  readonly #timeline = new Timeline(this.#startMs);
  readonly #ledger: Ledger = { attempted: new Set(), acknowledged: new Set(), failed: new Set() };
  readonly #inFlight = new Set<Promise<void>>();
  readonly #workload: Workload;
  readonly #sender: Sender;
  readonly #cpu: CpuSampler;
  readonly #counts: DriveCounts = {
    singles: 0,
    batches: 0,
    resends: 0,
    offeredEvents: 0,
    droppedRequests: 0,
    droppedEvents: 0,
    ackedEvents: 0,
    lastAckMs: this.#startMs,
  };
  #fault: Promise<FaultMark> | undefined;
  #faultActive = false;

  constructor(system: LocalSystem, opts: DriveOptions) {
    this.#system = system;
    this.#opts = opts;
    const gateways = new Map([...system.topology.regions.values()].map((r) => [r.region, r.gatewayUrl] as const));
    const run = `lt${Date.now().toString(36)}`;
    this.#workload = new Workload(opts.tiers, opts.tier, [...gateways.keys()], run, opts.seed);
    this.#sender = new Sender(gateways, system.secret, this.#timeline);
    this.#cpu = new CpuSampler(() => system.processes());
  }

  async run(): Promise<Drive> {
    const { tier } = this.#opts;
    const reqRate = requestRate(tier);
    const totalRequests = Math.max(1, Math.round(reqRate * tier.durationSeconds));
    const intervalMs = 1000 / reqRate;
    const startMs = this.#startMs;
    const ticker = setInterval(() => {
      this.#cpu.sample();
      this.#opts.progress(this.#progressLine());
    }, 1_000);
    ticker.unref();
    this.#cpu.start();
    for (let i = 0; i < totalRequests;) {
      const now = Date.now();
      this.#maybeStartFault(now);
      for (; i < totalRequests && startMs + i * intervalMs <= now; i++) this.#offer(startMs + i * intervalMs);
      const next = startMs + i * intervalMs - Date.now();
      await sleep(Math.max(1, Math.min(10, next)));
    }
    await Promise.all(this.#inFlight);
    const faultMark = this.#fault ? await this.#fault : undefined;
    this.#cpu.sample();
    clearInterval(ticker);
    await this.#sender.close();
    // A key refused in one request and acknowledged in another (a resend) is acknowledged.
    for (const k of this.#ledger.acknowledged) this.#ledger.failed.delete(k);
    return {
      startMs,
      requestRate: reqRate,
      totalRequests,
      timeline: this.#timeline,
      ledger: this.#ledger,
      counts: this.#counts,
      faultMark,
      cpu: this.#cpu.report(),
    };
  }

  #maybeStartFault(now: number): void {
    const { fault, faultAtMs, faultHoldMs } = this.#opts;
    if (!fault || this.#fault || now < this.#startMs + faultAtMs) return;
    this.#faultActive = true;
    this.#fault = injectFault(this.#system, fault, faultHoldMs).finally(() => (this.#faultActive = false));
  }

  /** The next planned request, due at `intended`: sent, or counted as dropped when too many wait. */
  #offer(intended: number): void {
    const req = this.#workload.next();
    const counts = this.#counts;
    counts.offeredEvents += req.events.length;
    counts[req.kind === "single" ? "singles" : req.kind === "batch" ? "batches" : "resends"]++;
    this.#timeline.offered(intended, req.events.length);
    if (this.#inFlight.size >= this.#opts.maxInFlight) {
      counts.droppedRequests++;
      counts.droppedEvents += req.events.length;
      return;
    }
    for (const e of req.events) this.#ledger.attempted.add(e.key);
    const p: Promise<void> = this.#send(req, intended);
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #send(req: PlannedRequest, intended: number): Promise<void> {
    const outcome = await this.#sender.send(req, intended);
    for (const e of outcome.acked) this.#ledger.acknowledged.add(e.key);
    for (const e of outcome.failed) this.#ledger.failed.add(e.key);
    if (outcome.acked.length > 0) {
      const done = Date.now();
      this.#counts.ackedEvents += outcome.acked.length;
      this.#counts.lastAckMs = Math.max(this.#counts.lastAckMs, done);
      this.#timeline.acknowledged(done, outcome.latencyMs, outcome.acked.length);
    }
    if (outcome.failed.length === 0) this.#workload.acknowledged(req);
  }

  #progressLine(): string {
    const { tier, fault } = this.#opts;
    const timeline = this.#timeline;
    const sec = Math.floor((Date.now() - this.#startMs) / 1000);
    const last = timeline.seconds[Math.max(0, sec - 1)];
    const p99 = last ? percentileMs(last.ack, 99) : null;
    return (
      `[${tier.name}${fault ? ` + ${fault}` : ""}] ${Math.min(sec, tier.durationSeconds)}/${tier.durationSeconds}s  ` +
      `offered ${last?.offeredEvents ?? 0}/s  acked ${last?.ackedEvents ?? 0}/s  in flight ${this.#inFlight.size}  ` +
      `ack p99 ${p99 === null ? "-" : p99.toFixed(1)} ms  202 ${timeline.countOf("202")}  200 ${timeline.countOf("200")}  ` +
      `4xx ${timeline.countOf("4")}  5xx ${timeline.countOf("5")}  dropped ${this.#counts.droppedRequests}` +
      (this.#faultActive ? `  FAULT ${fault} active` : "")
    );
  }
}

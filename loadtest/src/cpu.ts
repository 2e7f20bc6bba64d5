import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuReport {
  seconds: number;
  cores: number;
  /** CPU time per process as a percentage of one core, averaged over the window. */
  processes: Array<{ name: string; percentOfCore: number }>;
  /** The whole machine's busy share (all cores = 100 %), and what of it was not ours. */
  machineBusyPercent: number | null;
  othersPercentOfCore: number | null;
}

/**
 * Samples /proc once per call: per named process (a changed pid — a restarted process — starts a
 * new baseline) and the machine as a whole, so the report can say which process limited a run
 * and how much of the machine other work took meanwhile.
 */
export class CpuSampler {
  readonly #last = new Map<string, { pid: number; ticks: number }>();
  readonly #used = new Map<string, number>();
  #machineStart: { busy: number; total: number } | undefined;
  #machineLast: { busy: number; total: number } | undefined;
  #startMs = 0;
  #lastMs = 0;

  constructor(private readonly list: () => Array<{ name: string; pid: number }>) {}

  start(): void {
    this.#startMs = Date.now();
    this.#machineStart = machineTicks();
    this.sample();
  }

  sample(): void {
    this.#lastMs = Date.now();
    this.#machineLast = machineTicks();
    for (const { name, pid } of this.list()) {
      if (pid <= 0) continue;
      const ticks = processTicks(pid);
      if (ticks === undefined) continue;
      const last = this.#last.get(name);
      if (last && last.pid === pid) this.#used.set(name, (this.#used.get(name) ?? 0) + (ticks - last.ticks));
      this.#last.set(name, { pid, ticks });
    }
  }

  report(): CpuReport {
    const seconds = Math.max(0.001, (this.#lastMs - this.#startMs) / 1000);
    const processes = [...this.#used].map(([name, ticks]) => ({
      name,
      percentOfCore: (100 * ticks) / TICKS_PER_SECOND / seconds,
    }));
    const cores = cpus().length;
    let machineBusyPercent: number | null = null;
    let othersPercentOfCore: number | null = null;
    if (this.#machineStart && this.#machineLast && this.#machineLast.total > this.#machineStart.total) {
      const busy = this.#machineLast.busy - this.#machineStart.busy;
      machineBusyPercent = (100 * busy) / (this.#machineLast.total - this.#machineStart.total);
      const ours = processes.reduce((a, p) => a + p.percentOfCore, 0);
      othersPercentOfCore = Math.max(0, machineBusyPercent * cores - ours);
    }
    return {
      seconds,
      cores,
      processes: processes.sort((a, b) => b.percentOfCore - a.percentOfCore),
      machineBusyPercent,
      othersPercentOfCore,
    };
  }
}

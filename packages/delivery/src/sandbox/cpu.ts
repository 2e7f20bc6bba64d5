/**
 * CPU time of the current thread, ms: what a sandbox's limits count. Wall-clock time also counts
 * the time the thread waited (the machine busy elsewhere, a GC pause, other work on an event
 * loop), and a limit that trips on those fails events that did nothing wrong.
 */
export function threadCpuMs(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
}

/**
 * A limit on the CPU time spent from now on, checked often and cheaply: the thread cannot have
 * used more CPU time than wall-clock time has passed, so the CPU clock (a system call) is read only
 * once the wall clock is past the limit.
 */
export class CpuDeadline {
  readonly #limitMs: number;
  readonly #wallStart = performance.now();
  readonly #cpuStart = threadCpuMs();

  constructor(limitMs: number) {
    this.#limitMs = limitMs;
  }

  exceeded(): boolean {
    if (performance.now() - this.#wallStart <= this.#limitMs) return false;
    return threadCpuMs() - this.#cpuStart > this.#limitMs;
  }
}

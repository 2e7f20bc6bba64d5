import { Worker } from "node:worker_threads";
import { ConfigError } from "@tributary/errors";
import type { DeliveryEvent } from "../event.js";
import {
  SHARED_JOB_CPU_MS,
  SHARED_SLOTS,
  SHARED_STAGE,
  Stage,
  type SandboxJob,
  type SandboxOutcome,
  type SandboxSpec,
  type WorkerMessage,
} from "./protocol.js";

/**
 * V8 heap of a sandbox worker (its filter's values, the parsed body, JSONata's sequences); the
 * transform's QuickJS memory is apart, bounded by `sandbox.memoryBytes`. A filter that builds more
 * ends its worker (ERR_WORKER_OUT_OF_MEMORY), not the process.
 */
export const SANDBOX_HEAP_MB = 64;

/** CPU time a job may take beyond its filter's and transform's limits before the watchdog ends it: the parse, and slack. */
const PARSE_ALLOWANCE_MS = 100;

/**
 * The worker's entry, and how Node loads it. Built, it is `worker.js` beside this file. Run from the
 * TypeScript sources (this package's tests), it is `worker.ts`: Node strips the types itself, and a
 * resolve hook maps the sources' `./x.js` imports to `./x.ts`.
 */
const ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url);
const BOOT = `
const { workerData } = require("node:worker_threads");
if (workerData.entry.endsWith(".ts")) {
  require("node:module").registerHooks({
    resolve(specifier, context, next) {
      if (context.parentURL?.endsWith(".ts") && specifier.startsWith(".") && specifier.endsWith(".js"))
        return next(specifier.slice(0, -3) + ".ts", context);
      return next(specifier, context);
    },
  });
}
import(workerData.entry);
`;

interface Pending {
  job: SandboxJob;
  resolve: (outcome: SandboxOutcome) => void;
}

interface Running {
  worker: Worker;
  state: Float64Array;
  ready: Promise<void>;
}

/**
 * A destination's filter and transform on a worker thread of their own (worker.ts), one event at a
 * time: whatever they do — a regex, a large sort, a loop — costs that destination's thread, never
 * the event loop that the other destinations, NATS and the HTTP server share. Each job has a CPU
 * budget (the filter's and the transform's limits plus the parse); the filter and the transform
 * check theirs between steps, and a watchdog here ends the worker (`terminate()`) when a single step
 * runs past it, reading the worker's CPU time rather than the clock, so a job that only waited
 * (a busy machine) is given its time. The worker is replaced for the next job.
 */
export class Sandbox {
  /** Workers replaced (ended by the watchdog, out of memory, or crashed). */
  restarts = 0;
  readonly #spec: SandboxSpec;
  readonly #queue: Pending[] = [];
  #running: Running | undefined;
  #busy = false;
  #closed = false;
  #nextId = 1;

  private constructor(spec: SandboxSpec) {
    this.#spec = spec;
  }

  /** Starts the worker; a filter or transform that does not compile is a ConfigError naming its field. */
  static async create(spec: SandboxSpec): Promise<Sandbox> {
    const sandbox = new Sandbox(spec);
    try {
      await sandbox.#start().ready;
    } catch (err) {
      await sandbox.close();
      throw err;
    }
    return sandbox;
  }

  /** Filters and transforms one event. */
  run(event: DeliveryEvent): Promise<SandboxOutcome> {
    const job: SandboxJob = {
      id: this.#nextId++,
      fields: {
        key: event.key,
        source: event.source,
        type: event.type,
        region: event.region,
        receivedAt: event.receivedAt,
        enrichment: event.enrichment ?? null,
      },
      // A copy in an ArrayBuffer of its own, to transfer: the message's bytes may be a view of a
      // larger buffer (Node's pool, which cannot be transferred).
      body: new Uint8Array(event.body),
    };
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve });
      void this.#drain();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const running = this.#running;
    this.#running = undefined;
    await running?.worker.terminate();
    for (const pending of this.#queue.splice(0))
      pending.resolve({ kind: "unavailable", detail: "the sandbox is closed" });
  }

  /** The CPU time a job may use before the watchdog ends it. */
  get #jobBudgetMs(): number {
    const spec = this.#spec;
    const budget = (spec.filter ? spec.filterCpuMs : 0) + (spec.transform ? spec.transformCpuMs : 0);
    return budget + Math.max(PARSE_ALLOWANCE_MS, budget / 2);
  }

  #start(): Running {
    const shared = new SharedArrayBuffer(SHARED_SLOTS * Float64Array.BYTES_PER_ELEMENT);
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { entry: ENTRY.href, spec: this.#spec, shared },
      resourceLimits: { maxOldGenerationSizeMb: SANDBOX_HEAP_MB, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerMessage) => {
        if ("ready" in message) resolve();
        else if ("configError" in message) {
          const { field, problem, fix } = message.configError;
          reject(new ConfigError(field, problem, fix));
        } else return;
        worker.off("message", onMessage);
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the sandbox worker exited (${code}) before it was ready`)));
    });
    ready.catch(() => {}); // a start that fails is answered through the job that waited for it
    const running = { worker, state: new Float64Array(shared), ready };
    this.#running = running;
    return running;
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) next.resolve(await this.#runOne(next.job));
    } finally {
      this.#busy = false;
    }
  }

  async #runOne(job: SandboxJob): Promise<SandboxOutcome> {
    if (this.#closed) return { kind: "unavailable", detail: "the sandbox is closed" };
    const running = this.#running ?? this.#start();
    try {
      await running.ready;
    } catch (err) {
      this.#replace(running);
      return { kind: "unavailable", detail: `the sandbox worker did not start: ${(err as Error).message}` };
    }
    return new Promise<SandboxOutcome>((resolve) => {
      const { worker, state } = running;
      const startedAt = performance.now();
      const budgetMs = this.#jobBudgetMs;
      let timer: NodeJS.Timeout | undefined;
      const settle = (outcome: SandboxOutcome) => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        resolve(outcome);
      };
      const onMessage = (message: WorkerMessage) => {
        if ("id" in message && message.id === job.id) settle(message.outcome);
      };
      const onError = (err: Error & { code?: string }) => {
        this.#replace(running);
        settle(deathOutcome(err.code === "ERR_WORKER_OUT_OF_MEMORY", state[SHARED_STAGE]!, err.message));
      };
      const onExit = () => {
        this.#replace(running);
        settle({ kind: "unavailable", detail: "the sandbox worker exited" });
      };
      // The watchdog: at the budget (wall clock, which CPU time cannot outrun), the worker's own CPU
      // time decides; a job that only waited gets the rest of its budget. A job that neither ends
      // nor uses CPU for twenty budgets is ended anyway.
      const watch = async (waitMs: number) => {
        timer = setTimeout(() => {
          void worker.cpuUsage().then(
            ({ user, system }) => {
              const usedMs = (user + system) / 1000 - state[SHARED_JOB_CPU_MS]!;
              const stalled = performance.now() - startedAt > 20 * budgetMs + 1_000;
              if (usedMs < budgetMs && !stalled) return void watch(Math.max(10, budgetMs - usedMs));
              const stage = state[SHARED_STAGE]!;
              this.#replace(running);
              void worker.terminate();
              settle(
                stage === Stage.transform
                  ? {
                      kind: "timeout",
                      code: "transform_timeout",
                      detail: `the transform used more than ${Math.round(budgetMs)} ms of CPU time in one step and was stopped`,
                    }
                  : {
                      kind: "timeout",
                      code: "filter_timeout",
                      detail: `the filter used more than ${Math.round(budgetMs)} ms of CPU time in one step and was stopped`,
                    },
              );
            },
            () => {}, // the worker ended meanwhile: its exit settles the job
          );
        }, waitMs);
      };
      worker.on("message", onMessage);
      worker.once("error", onError);
      worker.once("exit", onExit);
      void watch(budgetMs);
      try {
        worker.postMessage(job, [job.body.buffer as ArrayBuffer]);
      } catch (err) {
        settle({
          kind: "unavailable",
          detail: `the job could not be handed to the sandbox: ${(err as Error).message}`,
        });
      }
    });
  }

  /** Forgets a worker that ended or is being ended: the next job starts a fresh one. */
  #replace(running: Running): void {
    if (this.#running !== running) return;
    this.#running = undefined;
    this.restarts++;
  }
}

/** A worker that died in a job: out of its memory (final for the event), or crashed (not the event's fault). */
function deathOutcome(outOfMemory: boolean, stage: number, message: string): SandboxOutcome {
  if (!outOfMemory) return { kind: "unavailable", detail: `the sandbox worker failed: ${message}` };
  return stage === Stage.transform
    ? { kind: "failed", code: "transform_memory", detail: "the transform ran out of the sandbox's memory" }
    : {
        kind: "failed",
        code: "filter_failed",
        detail: `the filter ran out of the sandbox's memory (${SANDBOX_HEAP_MB} MB)`,
      };
}

import { parentPort, workerData } from "node:worker_threads";
import { isConfigError } from "@tributary/errors";
import { sandboxInput } from "../event.js";
import { compileFilter, describeFilterError, FilterTimeoutError, type EventFilter } from "../filter.js";
import { scrubDetail } from "../scrub.js";
import { Transformer } from "../transform.js";
import { threadCpuMs } from "./cpu.js";
import {
  SHARED_JOB_CPU_MS,
  SHARED_STAGE,
  Stage,
  type SandboxJob,
  type SandboxOutcome,
  type SandboxSpec,
  type WorkerMessage,
} from "./protocol.js";

/**
 * A destination's sandbox worker: its filter and transform, run one event at a time on a thread of
 * their own, so neither a slow filter nor a slow transform holds the event loop that every other
 * destination, NATS and the HTTP server share. The host (host.ts) watches the CPU time of each job
 * and terminates this thread if a single step runs past it.
 */
const { spec, shared } = workerData as { spec: SandboxSpec; shared: SharedArrayBuffer };
const state = new Float64Array(shared);
const port = parentPort!;
const decoder = new TextDecoder("utf-8", { fatal: true });

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

async function load(): Promise<{ filter?: EventFilter; transformer?: Transformer }> {
  const filter = spec.filter
    ? compileFilter(spec.filter, { timeoutMs: spec.filterCpuMs, field: `${spec.field}.filter` })
    : undefined;
  const transformer = spec.transform
    ? await Transformer.create(
        spec.transform,
        { timeoutMs: spec.transformCpuMs, memoryBytes: spec.memoryBytes },
        `${spec.field}.transform`,
      )
    : undefined;
  return { ...(filter ? { filter } : {}), ...(transformer ? { transformer } : {}) };
}

async function run(job: SandboxJob, filter?: EventFilter, transformer?: Transformer): Promise<SandboxOutcome> {
  let text: string;
  let body: unknown;
  try {
    text = decoder.decode(job.body);
    body = JSON.parse(text);
  } catch {
    return { kind: "failed", code: "invalid_json", detail: "the body is not JSON; the filter/transform needs JSON" };
  }
  const { enrichment, ...fields } = job.fields;
  const input = sandboxInput({ ...fields, ...(enrichment ? { enrichment } : {}), body: job.body }, body);
  if (filter) {
    state[SHARED_STAGE] = Stage.filter;
    try {
      if (!(await filter(input))) return { kind: "skip" };
    } catch (err) {
      const detail = scrubDetail(describeFilterError(err), [text]);
      return err instanceof FilterTimeoutError
        ? { kind: "timeout", code: "filter_timeout", detail }
        : { kind: "failed", code: "filter_failed", detail };
    }
  }
  if (!transformer) return { kind: "send" };
  state[SHARED_STAGE] = Stage.transform;
  const result = await transformer.run(input);
  if (result.ok) return result.body === null ? { kind: "skip" } : { kind: "send", body: result.body };
  const detail = scrubDetail(result.message, [text]);
  return result.code === "transform_timeout"
    ? { kind: "timeout", code: result.code, detail }
    : { kind: "failed", code: result.code, detail };
}

try {
  const { filter, transformer } = await load();
  port.on("message", (job: SandboxJob) => {
    state[SHARED_JOB_CPU_MS] = threadCpuMs();
    state[SHARED_STAGE] = Stage.parse;
    void run(job, filter, transformer).then(
      (outcome) => {
        state[SHARED_STAGE] = Stage.idle;
        post({ id: job.id, outcome });
      },
      (err: unknown) => {
        state[SHARED_STAGE] = Stage.idle;
        post({ id: job.id, outcome: { kind: "unavailable", detail: String((err as Error)?.message ?? err) } });
      },
    );
  });
  post({ ready: true });
} catch (err) {
  if (!isConfigError(err)) throw err;
  post({ configError: { field: err.field, problem: err.problem, fix: err.fix } });
}

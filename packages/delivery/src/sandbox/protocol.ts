import type { DeliveryFailureCode } from "../errors.js";

/**
 * What passes between a destination's deliverer and its sandbox worker (host.ts, worker.ts):
 * structured-clone messages, and a small shared array the worker writes what it is doing into, so
 * the host can judge a job it cannot otherwise see into while it runs.
 */

/** What the worker builds its filter and transform from. */
export interface SandboxSpec {
  /** The config field the filter and transform are under, for config errors. */
  field: string;
  filter?: string;
  transform?: string;
  /** CPU time of each, ms, and the transform's QuickJS memory. */
  filterCpuMs: number;
  transformCpuMs: number;
  memoryBytes: number;
}

/** The event fields the filter and the transform see besides the body. */
export interface EventFields {
  key: string;
  source: string;
  type: string;
  region: string;
  receivedAt: string;
  /** The enriched columns the enrich stage decided (null when it did not enrich the event). */
  enrichment: Record<string, unknown> | null;
}

export interface SandboxJob {
  id: number;
  fields: EventFields;
  /** The raw body; a copy of its own, transferred to the worker. */
  body: Uint8Array;
}

/** What the sandbox decided about one event. */
export type SandboxOutcome =
  /** Deliver: the transform's JSON text, or the raw body when there is no transform. */
  | { kind: "send"; body?: string }
  /** Not for this destination: the filter said no, or the transform returned null. */
  | { kind: "skip" }
  /** Final for this event: dead-letter it. The detail is scrubbed of the event's body already. */
  | {
      kind: "failed";
      code: Extract<DeliveryFailureCode, "invalid_json" | "filter_failed" | "transform_failed" | "transform_memory">;
      detail: string;
    }
  /** Past its CPU time: retried a few times before it is final (a machine may stall). */
  | { kind: "timeout"; code: Extract<DeliveryFailureCode, "filter_timeout" | "transform_timeout">; detail: string }
  /** The sandbox could not run it (its worker failed to start or died): not the event's fault. */
  | { kind: "unavailable"; detail: string };

/** Messages from the worker. */
export type WorkerMessage =
  | { ready: true }
  | { configError: { field: string; problem: string; fix: string } }
  | { id: number; outcome: SandboxOutcome };

/** Slots of the shared Float64Array: the stage of the job in hand, and the thread's CPU ms when the job began. */
export const SHARED_STAGE = 0;
export const SHARED_JOB_CPU_MS = 1;
export const SHARED_SLOTS = 2;

export const Stage = { idle: 0, parse: 1, filter: 2, transform: 3 } as const;

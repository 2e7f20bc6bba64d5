import {
  newQuickJSWASMModule,
  type QuickJSContext,
  type QuickJSRuntime,
  type QuickJSWASMModule,
} from "quickjs-emscripten";
import { ConfigError } from "@tributary/errors";
import type { DeliveryFailureCode } from "./errors.js";
import { CpuDeadline } from "./sandbox/cpu.js";

export type TransformResult =
  | { ok: true; /** JSON text to send; null when the transform skipped the event. */ body: string | null }
  | {
      ok: false;
      code: Extract<DeliveryFailureCode, "transform_failed" | "transform_timeout" | "transform_memory">;
      message: string;
    };

export interface TransformLimits {
  /** CPU time of one run, ms (the interrupt handler checks it). */
  timeoutMs: number;
  memoryBytes: number;
}

/**
 * QuickJS stack bound: deep recursion fails inside the sandbox ("InternalError: stack overflow")
 * before it exhausts V8's own stack, which would throw out of the middle of the WASM code. Measured
 * on Node 24: at 512 KiB plain recursion (`function f() { return f(); }`) already hit V8's limit;
 * at 256 KiB plain, getter and callback recursion stop inside QuickJS. Some native recursion
 * (JSON.stringify of a deeply nested array) can still reach V8's limit: run() then replaces the module.
 */
const MAX_STACK_BYTES = 256 * 1024;

// Runs after the user's code: the one entry point, JSON in and JSON out, so no handle of ours ever
// reaches the sandbox and nothing from the sandbox but a string leaves it.
const ENTRY = `globalThis.__tributary_run = (input) => {
  if (typeof transform !== "function") throw new TypeError("the code must define function transform(event)");
  const out = transform(JSON.parse(input));
  if (out === null || out === undefined) return null;
  const text = JSON.stringify(out);
  if (typeof text !== "string") throw new TypeError("transform must return a JSON value");
  return text;
};`;

/**
 * Each transformer has its own WASM module (a few MB), not the process-wide one: QuickJS can abort
 * its whole module when a runtime is freed after some failures (a stack overflow leaves objects
 * behind: "Assertion failed: list_empty(&rt->gc_obj_list)"), and such a module is replaced, which
 * must not touch another destination's transform.
 */
function quickjs(): Promise<QuickJSWASMModule> {
  return newQuickJSWASMModule();
}

/**
 * A destination's transformation, run inside QuickJS (WASM), never with eval in the process: the
 * code sees only the event's JSON, has no I/O, and runs under an interrupt deadline and a memory
 * limit. One runtime per destination, reused across events (creating one costs ~1 ms); after any
 * failure the runtime is thrown away, so a half-done or poisoned state never serves the next event.
 */
export class Transformer {
  readonly code: string;
  readonly limits: TransformLimits;
  #module: QuickJSWASMModule;
  #runtime: QuickJSRuntime | undefined;
  #context: QuickJSContext | undefined;
  #deadline = new CpuDeadline(0);
  /** Set by the interrupt handler when it stopped the code at the deadline: a timeout, whatever the error says. */
  #interrupted = false;
  #broken = false;
  #modulesReplaced = 0;
  #hostFailures = 0;

  // Plain fields, no parameter properties: the sandbox worker runs this file as Node strips its types.
  private constructor(module: QuickJSWASMModule, code: string, limits: TransformLimits) {
    this.#module = module;
    this.code = code;
    this.limits = limits;
  }

  /** Loads QuickJS and evaluates the code once, so a syntax error stops the start, naming the field. */
  static async create(code: string, limits: TransformLimits, field = "transform"): Promise<Transformer> {
    const t = new Transformer(await quickjs(), code, limits);
    try {
      t.#open();
    } catch (err) {
      t.dispose();
      throw new ConfigError(
        field,
        `does not load: ${(err as Error).message}`,
        "define function transform(event) { return … } in plain JavaScript",
        { cause: err },
      );
    }
    const probe = t.#context!.getProp(t.#context!.global, "transform");
    const kind = t.#context!.typeof(probe);
    probe.dispose();
    if (kind !== "function") {
      t.dispose();
      throw new ConfigError(
        field,
        "does not define function transform(event)",
        "define function transform(event) { return … }",
      );
    }
    return t;
  }

  #open(): QuickJSContext {
    if (this.#context) return this.#context;
    const runtime = this.#module.newRuntime();
    runtime.setMemoryLimit(this.limits.memoryBytes);
    runtime.setMaxStackSize(MAX_STACK_BYTES);
    runtime.setInterruptHandler(() => {
      if (!this.#deadline.exceeded()) return false;
      this.#interrupted = true;
      return true;
    });
    const context = runtime.newContext();
    this.#runtime = runtime;
    this.#context = context;
    this.#deadline = new CpuDeadline(this.limits.timeoutMs * 10); // loading the code gets a little more time
    for (const source of [this.code, ENTRY]) {
      const result = context.evalCode(source, "transform.js");
      if (result.error) {
        const detail = context.dump(result.error) as { message?: string } | string;
        result.error.dispose();
        this.#close();
        throw new Error(typeof detail === "string" ? detail : (detail?.message ?? "error"));
      }
      result.value.dispose();
    }
    return context;
  }

  #close(): void {
    if (this.#broken) {
      // Freeing a runtime of a module whose C heap is in an unknown state can abort it (and print
      // "Aborted(Assertion failed …)"): drop the handles; the whole module is replaced.
      this.#context = undefined;
      this.#runtime = undefined;
      return;
    }
    try {
      this.#context?.dispose();
      this.#runtime?.dispose();
    } catch {
      // The module aborted while freeing a runtime a failure left untidy: replace the whole module.
      this.#broken = true;
    }
    this.#context = undefined;
    this.#runtime = undefined;
  }

  /** Runs that failed by the host throwing out of the WASM code (not by the transform's own error). */
  get hostFailures(): number {
    return this.#hostFailures;
  }

  /** WASM modules thrown away after a host exception left one untidy (each loaded a fresh one). */
  get modulesReplaced(): number {
    return this.#modulesReplaced;
  }

  /** Runs the transform on one event input (the same object the filter sees). */
  async run(input: unknown): Promise<TransformResult> {
    if (this.#broken) {
      this.#module = await quickjs();
      this.#broken = false;
      this.#modulesReplaced++;
    }
    let context: QuickJSContext;
    try {
      context = this.#open();
    } catch (err) {
      return { ok: false, code: "transform_failed", message: (err as Error).message };
    }
    this.#deadline = new CpuDeadline(this.limits.timeoutMs);
    this.#interrupted = false;
    let failure: TransformResult;
    try {
      const fn = context.getProp(context.global, "__tributary_run");
      const arg = context.newString(JSON.stringify(input));
      try {
        const result = context.callFunction(fn, context.undefined, arg);
        if (result.error) {
          try {
            const detail = context.dump(result.error) as { name?: string; message?: string } | string;
            failure = classify(detail, this.#interrupted || this.#deadline.exceeded());
          } finally {
            result.error.dispose();
          }
        } else {
          try {
            const value: unknown = context.dump(result.value);
            return { ok: true, body: typeof value === "string" ? value : null };
          } finally {
            result.value.dispose();
          }
        }
      } finally {
        fn.dispose();
        arg.dispose();
      }
    } catch (err) {
      // QuickJS itself failed: the host threw out of the middle of the WASM code (V8's own stack
      // overflow in deep recursion the QuickJS stack check did not catch, e.g. JSON.stringify of a
      // deeply nested value; a WebAssembly trap). The C heap was left mid-update, so neither this
      // runtime nor the module it lives in may serve another event, even when freeing it happens
      // not to abort: replace the module.
      failure = classify({ message: (err as Error).message }, this.#interrupted || this.#deadline.exceeded());
      this.#broken = true;
      this.#hostFailures++;
    }
    this.#close();
    return failure;
  }

  dispose(): void {
    this.#close();
  }
}

function classify(
  detail: { name?: string; message?: string } | string,
  interrupted: boolean,
): TransformResult & { ok: false } {
  const message =
    typeof detail === "string" ? detail : `${detail?.name ? `${detail.name}: ` : ""}${detail?.message ?? "error"}`;
  if (interrupted)
    return {
      ok: false,
      code: "transform_timeout",
      message: "the transform used more than its CPU time and was interrupted",
    };
  // QuickJS reports its memory limit only as an InternalError with this text (no code, no state to
  // ask afterwards), so this one decision reads the engine's message.
  if (/out of memory/i.test(message))
    return { ok: false, code: "transform_memory", message: "the transform ran out of its memory limit" };
  return { ok: false, code: "transform_failed", message: message.slice(0, 500) };
}

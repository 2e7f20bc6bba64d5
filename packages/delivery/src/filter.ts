import jsonata from "jsonata";
import { ConfigError } from "@tributary/errors";

export type EventFilter = (input: unknown) => Promise<boolean>;

/** Depth bound of a filter's evaluation: recursion deeper than this fails instead of growing. */
export const FILTER_MAX_DEPTH = 200;

/**
 * Compiles a JSONata filter. JSONata is declarative (no I/O, no access to the process) and its
 * evaluator checks a time limit and a depth limit on every step (options `timeout`, `stack`), so a
 * filter that recurses forever fails instead of holding the destination. Truthy result delivers.
 */
export function compileFilter(expression: string, opts: { timeoutMs: number; field?: string }): EventFilter {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(expression, { timeout: opts.timeoutMs, stack: FILTER_MAX_DEPTH });
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new ConfigError(
      opts.field ?? "filter",
      `is not a valid JSONata expression (${e.message ?? String(err)} at ${e.position ?? "?"})`,
      "see https://docs.jsonata.org",
      { cause: err },
    );
  }
  return async (input) => {
    const result: unknown = await expr.evaluate(input);
    // JSONata yields undefined for "no match"; arrays are truthy when not empty.
    if (Array.isArray(result)) return result.length > 0;
    return Boolean(result);
  };
}

/** JSONata throws plain objects with `code` and `message`; make them one line for the DLQ reason. */
export function describeFilterError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === "D1012") return "the filter ran past its time limit";
  if (e?.code === "D1011") return "the filter recursed past its depth limit";
  return `${e?.code ? `${e.code} ` : ""}${e?.message ?? String(err)}`;
}

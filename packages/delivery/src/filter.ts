import jsonata from "jsonata";
import { RE2JS } from "re2js";
import { ConfigError } from "@tributary/errors";
import { CpuDeadline } from "./sandbox/cpu.js";

export type EventFilter = (input: unknown) => Promise<boolean>;

/** Depth bound of a filter's evaluation: recursion deeper than this fails instead of growing. */
export const FILTER_MAX_DEPTH = 200;

/**
 * The longest sequence a filter may build (JSONata's `sequence` option; also bounds `[a..b]`). A
 * body holds far fewer values; without it, `[1..9999999]` allocates ten million in one step.
 */
export const FILTER_MAX_SEQUENCE = 100_000;

/** A filter ran past its CPU time (checked between its steps): retried, as a stalled machine may be why. */
export class FilterTimeoutError extends Error {
  readonly limitMs: number;
  // A plain field, no parameter property: the sandbox worker runs this file as Node strips its types.
  constructor(limitMs: number) {
    super(`the filter used more than ${limitMs} ms of CPU time`);
    this.name = "FilterTimeoutError";
    this.limitMs = limitMs;
  }
}

/** A JavaScript regex as RE2 takes it: its syntax translated, JSONata's flags (i, m) as RE2's. */
function re2Of(regex: RegExp): RE2JS {
  let flags = 0;
  if (regex.flags.includes("i")) flags |= RE2JS.CASE_INSENSITIVE;
  if (regex.flags.includes("m")) flags |= RE2JS.MULTILINE;
  return RE2JS.compile(RE2JS.translateRegExp(regex.source), flags);
}

/**
 * JSONata's RegexEngine (`new Engine(regex)`, then `lastIndex` and `exec` as a RegExp's) on RE2
 * (re2js): matching takes time linear in the text. Filters run regexes on sender-controlled text,
 * and V8's backtracking engine can take exponential time on it (`/^(a+)+$/` on "aaaa…!") within
 * one evaluation step, where no time limit is checked. RE2 has no backreferences or lookaround;
 * compileFilter refuses regexes that use them.
 */
class Re2RegExp {
  lastIndex = 0;
  readonly #re: RE2JS;

  constructor(regex: RegExp) {
    this.#re = re2Of(regex);
  }

  exec(text: string): RegExpExecArray | null {
    const matcher = this.#re.matcher(text);
    if (this.lastIndex > text.length || !matcher.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const groups: Array<string | undefined> = [];
    for (let g = 0; g <= matcher.groupCount(); g++) groups.push(matcher.group(g) ?? undefined);
    this.lastIndex = matcher.end();
    return Object.assign(groups, { index: matcher.start(), input: text }) as unknown as RegExpExecArray;
  }
}

/** Every regex literal of a compiled expression's syntax tree. */
function* regexesOf(node: unknown, seen = new Set<unknown>()): Generator<RegExp> {
  if (node === null || typeof node !== "object" || seen.has(node)) return;
  seen.add(node);
  if (node instanceof RegExp) {
    yield node;
    return;
  }
  for (const value of Object.values(node)) yield* regexesOf(value, seen);
}

/** The hook JSONata calls before each evaluation step (with its own depth and sequence checks). */
const EVALUATE_ENTRY = Symbol.for("jsonata.__evaluate_entry");
/** The binding that carries an evaluation's CPU deadline to the hook. */
const DEADLINE = "__tributaryCpuDeadline";

/** What the hook sees of JSONata's evaluation frame. */
interface Frame {
  lookup(name: string): unknown;
}

/**
 * Compiles a JSONata filter. JSONata is declarative (no I/O, no access to the process). Its regexes
 * run on RE2 (linear time), sequences are bounded (FILTER_MAX_SEQUENCE), recursion is bounded
 * (FILTER_MAX_DEPTH), and each evaluation may use `timeoutMs` of CPU time, checked before every step:
 * past it the evaluation fails with FilterTimeoutError. A single step that runs long (a built-in
 * over a large value) is not interrupted here: the sandbox worker's watchdog kills it (sandbox/).
 * Truthy result delivers.
 */
export function compileFilter(expression: string, opts: { timeoutMs: number; field?: string }): EventFilter {
  const field = opts.field ?? "filter";
  let expr: jsonata.Expression;
  try {
    expr = jsonata(expression, {
      stack: FILTER_MAX_DEPTH,
      sequence: FILTER_MAX_SEQUENCE,
      RegexEngine: Re2RegExp,
    } as unknown as jsonata.JsonataOptions);
  } catch (err) {
    const e = err as { message?: string; position?: number };
    throw new ConfigError(
      field,
      `is not a valid JSONata expression (${e.message ?? String(err)} at ${e.position ?? "?"})`,
      "see https://docs.jsonata.org",
      { cause: err },
    );
  }
  for (const regex of regexesOf(expr.ast())) {
    try {
      re2Of(regex);
    } catch (err) {
      throw new ConfigError(
        field,
        `uses the regex /${regex.source}/, which RE2 cannot run (${(err as Error).message})`,
        "filters run regexes on RE2, in linear time: rewrite it without backreferences or lookaround",
        { cause: err },
      );
    }
  }
  // The deadline is a binding of each evaluation, so evaluations running at once keep their own.
  expr.assign(EVALUATE_ENTRY as unknown as string, (_node: unknown, _input: unknown, env: Frame) => {
    const deadline = env.lookup(DEADLINE) as CpuDeadline | undefined;
    if (deadline?.exceeded()) throw new FilterTimeoutError(opts.timeoutMs);
  });
  return async (input) => {
    const result: unknown = await expr.evaluate(input, { [DEADLINE]: new CpuDeadline(opts.timeoutMs) });
    // JSONata yields undefined for "no match"; arrays are truthy when not empty.
    if (Array.isArray(result)) return result.length > 0;
    return Boolean(result);
  };
}

/** JSONata throws plain objects with `code` and `message`; make them one line for the DLQ reason. */
export function describeFilterError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (err instanceof FilterTimeoutError) return err.message;
  if (e?.code === "D1011") return "the filter recursed past its depth limit";
  if (e?.code === "D2014" || e?.code === "D2015")
    return `the filter built a sequence longer than ${FILTER_MAX_SEQUENCE}`;
  return `${e?.code ? `${e.code} ` : ""}${e?.message ?? String(err)}`;
}

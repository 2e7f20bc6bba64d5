import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";
import type { DestinationSpec } from "@tributary/local";
import { OperatorError } from "./ops/context.js";

// Argument parsers: commander reports an InvalidArgumentError as a usage error (exit 2).

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of 1 or more");
  return n;
}
/** 0 or more (a duration that may be none, e.g. an overlap). */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("must be a whole number of 0 or more");
  return n;
}
/** A whole number from 1 to `max` (what the service's API takes in one call). */
export function upTo(max: number): (value: string) => number {
  return (value) => {
    const n = positiveInt(value);
    if (n > max)
      throw new InvalidArgumentError(`must be at most ${max.toLocaleString("en")} (one call's limit; repeat for more)`);
    return n;
  };
}
export function ratio(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("must be between 0 and 1");
  return n;
}
export function rate(value: string): number {
  const n = Number(value);
  if (!(n >= 0)) throw new InvalidArgumentError("must be 0 (as fast as answers come) or more events per second");
  return n;
}
export function time(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError("must be a date and time, e.g. 2026-11-29T10:00:00Z");
  return d;
}

/** `--destinations FILE`: a JSON array of destinations (or `{"destinations": [...]}`), as apps/delivery takes them. */
export function readDestinations(file: string): DestinationSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new OperatorError("bad_argument", `--destinations ${file}: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { destinations?: unknown } | null)?.destinations;
  if (!Array.isArray(list))
    throw new OperatorError(
      "bad_argument",
      `--destinations ${file}: expected a JSON array of destinations (or {"destinations": [...]}); see packages/delivery/README.md`,
    );
  list.forEach((d: unknown, i) => {
    if (typeof (d as { name?: unknown } | null)?.name !== "string")
      throw new OperatorError(
        "bad_argument",
        `--destinations ${file}: destinations[${i}].name is missing — give each destination a name like "crm"`,
      );
  });
  return list as DestinationSpec[];
}

export function seqList(values: string[]): number[] {
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new OperatorError(
        "bad_argument",
        `${JSON.stringify(v)} is not a DLQ sequence number (see \`tributary dlq list\`)`,
      );
    return n;
  });
}

import { readFileSync, writeFileSync } from "node:fs";
import { renderErrorTable, type ErrorCatalogue } from "./define.js";

export interface ErrorDocCheck {
  /** The table as the catalogue renders it. */
  expected: string;
  /** The table between the file's markers, or undefined when the markers are missing. */
  actual: string | undefined;
}

const markers = (name: string) => [`<!-- errors:${name} -->`, `<!-- /errors:${name} -->`] as const;

/**
 * Compares the table between `<!-- errors:<name> -->` and `<!-- /errors:<name> -->` in a Markdown
 * file with the catalogue. With `UPDATE_ERROR_DOCS=1` in the environment it first rewrites that
 * table from the catalogue, so a changed catalogue is documented by running its test once that way.
 */
export function checkErrorDoc(file: URL | string, name: string, catalogue: ErrorCatalogue): ErrorDocCheck {
  const expected = renderErrorTable(catalogue);
  const [open, close] = markers(name);
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(open);
  const end = text.indexOf(close, start);
  if (start < 0 || end < 0) return { expected, actual: undefined };
  if (process.env.UPDATE_ERROR_DOCS === "1") {
    writeFileSync(file, `${text.slice(0, start + open.length)}\n${expected}\n${text.slice(end)}`);
    return { expected, actual: expected };
  }
  return { expected, actual: text.slice(start + open.length, end).trim() };
}

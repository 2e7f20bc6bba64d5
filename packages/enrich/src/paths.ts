/**
 * Dotted JSON paths (`data.click.ip`, `data.tags.0`), the form the config uses. Hand-written: the
 * few lines below beat a JSONPath dependency for plain member access, which is all config needs.
 */
export function splitPath(path: string): string[] {
  return path.split(".").filter((segment) => segment !== "");
}

export function getPath(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** The first path holding a non-empty string. */
export function firstString(body: unknown, paths: ReadonlyArray<readonly string[]>): string | null {
  for (const path of paths) {
    const value = getPath(body, path);
    if (typeof value === "string" && value !== "") return value;
  }
  return null;
}

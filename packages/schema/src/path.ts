/**
 * Renders a location inside a JSON document the way a sender reads it: `data.link_id`,
 * `data.tags[0]`, `data["odd key"]`. The empty path is the body itself.
 */
export function joinPath(parent: string, segment: string): string {
  if (/^\d+$/.test(segment)) return `${parent}[${segment}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(segment)) return parent === "" ? segment : `${parent}.${segment}`;
  return `${parent}[${JSON.stringify(segment)}]`;
}

/** Renders a whole path from its segments; no segments is the body. */
export function renderPath(segments: readonly string[]): string {
  return segments.reduce(joinPath, "");
}

/** How a message names a location: the body itself has no path. */
export function describePath(path: string): string {
  return path === "" ? "body" : path;
}

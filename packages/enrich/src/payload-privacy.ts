import type { AgentInfo } from "./agent.js";

/**
 * What the stored, served and delivered payload keeps of a client: `reduced` (the default) rewrites
 * every address and user agent field to what enrichment keeps of them; `raw` leaves the body as
 * received (a source opts in when its consumers need the values and may hold them).
 */
export type PayloadPrivacy = "reduced" | "raw";

/**
 * A user agent reduced to the families enrichment derived from it (`Mobile Safari; iOS; mobile`,
 * `bot`): what a consumer may rely on, without the full string's fingerprint (versions, build ids,
 * device models).
 */
export function reducedUserAgent(agent: AgentInfo): string {
  if (agent.is_bot) return agent.bot_kind ?? "bot";
  return [agent.browser_name ?? "unknown browser", agent.os_name ?? "unknown OS", agent.device_type].join("; ");
}

/**
 * Rewrites, in place, every field at the given paths that holds a string: addresses through
 * `address` (null drops the field: not an address, or the ip mode keeps none), user agents through
 * `agent`. True when something changed (the payload is then serialised again).
 */
export function reducePayload(
  body: unknown,
  paths: { ip: ReadonlyArray<readonly string[]>; userAgent: ReadonlyArray<readonly string[]> },
  address: (raw: string) => string | null,
  agent: (ua: string) => string,
): boolean {
  let changed = false;
  for (const path of paths.ip) changed = rewrite(body, path, address) || changed;
  for (const path of paths.userAgent) changed = rewrite(body, path, agent) || changed;
  return changed;
}

function rewrite(body: unknown, path: readonly string[], to: (value: string) => string | null): boolean {
  let parent: unknown = body;
  for (let i = 0; i < path.length - 1; i++) {
    if (parent === null || typeof parent !== "object") return false;
    parent = (parent as Record<string, unknown>)[path[i]!];
  }
  if (parent === null || typeof parent !== "object") return false;
  const record = parent as Record<string, unknown>;
  const leaf = path[path.length - 1]!;
  const value = record[leaf];
  if (typeof value !== "string" || !Object.hasOwn(record, leaf)) return false;
  const next = to(value);
  if (next === value) return false;
  if (next === null) delete record[leaf];
  else record[leaf] = next;
  return true;
}

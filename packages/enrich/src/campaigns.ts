import { readFileSync, statSync } from "node:fs";
import { EnrichError } from "./errors.js";

export interface CampaignLookup {
  /** The campaign's metadata, or undefined when the lookup does not know it. */
  get(id: string): Record<string, unknown> | undefined;
  /** Where its entries come from, for another thread to build the same lookup. */
  readonly source?: CampaignSource;
}

/** A campaign file (re-read when it changes) or fixed entries. */
export type CampaignSource =
  { file: string; recheckMs?: number } | { entries: Record<string, Record<string, unknown>> };

export const DEFAULT_CAMPAIGN_RECHECK_MS = 30_000;

function parseCampaigns(text: string, path: string): Map<string, Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new EnrichError("campaign_file_unreadable", `campaign file ${path} is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const out = new Map<string, Record<string, unknown>>();
  if (Array.isArray(parsed)) {
    // [{ "id": "spring-sale", "name": "Spring sale", ... }, ...]
    parsed.forEach((entry: unknown, i) => {
      if (entry === null || typeof entry !== "object" || typeof (entry as { id?: unknown }).id !== "string") {
        throw new EnrichError("campaign_file_unreadable", `campaign file ${path}: entry [${i}] needs a string "id"`);
      }
      out.set((entry as { id: string }).id, entry as Record<string, unknown>);
    });
  } else if (parsed !== null && typeof parsed === "object") {
    // { "spring-sale": { "name": "Spring sale", ... }, ... }
    for (const [id, meta] of Object.entries(parsed)) {
      if (meta === null || typeof meta !== "object" || Array.isArray(meta))
        throw new EnrichError("campaign_file_unreadable", `campaign file ${path}: "${id}" must map to an object`);
      out.set(id, meta as Record<string, unknown>);
    }
  } else {
    throw new EnrichError(
      "campaign_file_unreadable",
      `campaign file ${path} must hold an object keyed by campaign id or an array of { id, ... }`,
    );
  }
  return out;
}

/**
 * Campaign metadata from a JSON file, held in memory and re-read when the file's mtime changes
 * (checked at most every `recheckMs`, so the hot path is a map lookup). A file that turns bad
 * keeps the last good copy (a half-written file must not blank every campaign).
 */
export function campaignFile(path: string, options: { recheckMs?: number; now?: () => number } = {}): CampaignLookup {
  const recheckMs = options.recheckMs ?? DEFAULT_CAMPAIGN_RECHECK_MS;
  const now = options.now ?? Date.now;
  const read = (): { map: Map<string, Record<string, unknown>>; mtimeMs: number } => {
    try {
      const mtimeMs = statSync(path).mtimeMs;
      return { map: parseCampaigns(readFileSync(path, "utf8"), path), mtimeMs };
    } catch (err) {
      if (err instanceof EnrichError) throw err;
      throw new EnrichError(
        "campaign_file_unreadable",
        `cannot read campaign file ${path}: ${(err as Error).message} — fix enrich.campaignFile`,
        { cause: err },
      );
    }
  };
  let current = read();
  let checkedAt = now();
  return {
    source: { file: path, recheckMs },
    get(id: string) {
      const t = now();
      if (t - checkedAt >= recheckMs) {
        checkedAt = t;
        try {
          if (statSync(path).mtimeMs !== current.mtimeMs) current = read();
        } catch {
          // keep the last good copy
        }
      }
      return current.map.get(id);
    },
  };
}

/** A fixed lookup (tests, or campaigns given inline in the config). */
export function campaignMap(entries: Record<string, Record<string, unknown>>): CampaignLookup {
  const map = new Map(Object.entries(entries));
  return { get: (id) => map.get(id), source: { entries } };
}

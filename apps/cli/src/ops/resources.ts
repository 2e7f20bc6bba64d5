import type { ManagementApi } from "./api.js";

/**
 * Sources and subscriptions as the management API shows them (secret ids and dates, never a
 * value), and the calls every kind shares: list, show, create, update, delete.
 */

export type Kind = "sources" | "subscriptions";
export type Settings = Record<string, unknown>;

export interface SecretView {
  id: string;
  createdAt: string;
  /** A rotated-out signing secret keeps signing until then. */
  expiresAt?: string;
}

interface RecordMeta {
  id: string;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** Which wrote it last: `api` or `apply`. */
  managedBy: string;
}

export interface SourceView extends RecordMeta, Settings {
  scheme: { type: string } & Settings;
  toleranceSeconds: number;
  secrets: SecretView[];
}

export interface SubscriptionView extends RecordMeta, Settings {
  url: string;
  sources: string[];
  types: string[];
  filter?: string;
  description?: string;
  paused: boolean;
  pausedReason?: string;
  pausedAt?: string;
  signingSecrets: SecretView[];
}

/** A secret the server made: in the answer to the request that made it, and nowhere else. */
export interface NewSecret {
  id: string;
  value: string;
}

const META: Record<Kind, readonly string[]> = {
  sources: ["id", "revision", "secrets", "createdAt", "updatedAt", "managedBy"],
  subscriptions: [
    "id",
    "revision",
    "signingSecrets",
    "createdAt",
    "updatedAt",
    "managedBy",
    "paused",
    "pausedReason",
    "pausedAt",
  ],
};

/**
 * A record's settings: what a config file and a PATCH hold (no ids, revisions, dates, secrets or
 * pause state). With `keys` (the schema's settings), only those: a field the API adds to its view
 * (health, counters) is not a setting.
 */
export function settingsOf(kind: Kind, view: Settings, keys?: readonly string[]): Settings {
  const skip = new Set(META[kind]);
  const only = keys ? new Set(keys) : undefined;
  return Object.fromEntries(
    Object.entries(view).filter(
      ([key, value]) => !skip.has(key) && (only === undefined || only.has(key)) && value !== undefined,
    ),
  );
}

export function resourcePath(kind: Kind, id: string, rest = ""): string {
  return `/v1/${kind}/${encodeURIComponent(id)}${rest}`;
}

export async function listResources<T>(api: ManagementApi, kind: Kind): Promise<T[]> {
  return (await api.get<{ data: T[] }>(`/v1/${kind}`)).data;
}

export function showResource<T>(api: ManagementApi, kind: Kind, id: string): Promise<T> {
  return api.get<T>(resourcePath(kind, id));
}

/**
 * Changes a record's settings: reads it, applies `change` to its settings, and sends the whole
 * result with If-Match (its revision), so a change made meanwhile is a conflict, not overwritten.
 * The whole settings, not only the changed ones: the API fills a PATCH's missing fields with their
 * defaults, so a partial PATCH would reset what it leaves out.
 */
export async function updateResource<T extends Settings>(
  api: ManagementApi,
  kind: Kind,
  id: string,
  change: (settings: Settings, current: T) => Settings,
  keys?: readonly string[],
): Promise<T> {
  const current = await showResource<T & { revision: number }>(api, kind, id);
  const settings = change(settingsOf(kind, current, keys), current);
  return replaceSettings<T>(api, kind, id, settings, current.revision);
}

/** Sends a record's whole settings (with If-Match when `revision` is given). */
export async function replaceSettings<T>(
  api: ManagementApi,
  kind: Kind,
  id: string,
  settings: Settings,
  revision: number | undefined,
): Promise<T> {
  const answer = await api.request<T>("PATCH", resourcePath(kind, id), {
    body: settings,
    ...(revision !== undefined ? { ifMatch: revision } : {}),
  });
  return answer.data;
}

export function deleteResource(api: ManagementApi, kind: Kind, id: string): Promise<void> {
  return api.delete(resourcePath(kind, id));
}

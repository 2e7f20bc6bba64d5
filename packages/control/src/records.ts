import type { SourceSettings } from "./source-settings.js";

/** A secret as a record holds it: sealed, with when it was made and (while rotating out) when it stops. */
export interface StoredSecret {
  id: string;
  sealed: string;
  encoding?: "utf8" | "base64" | "hex";
  createdAt: string;
  /** A subscription's old signing secret keeps signing until then, alongside the new one. */
  expiresAt?: string;
}

/** A source as the control bucket holds it: the file config's settings, its secrets sealed. */
export interface SourceRecord extends SourceSettings {
  secrets: StoredSecret[];
  createdAt: string;
  updatedAt: string;
  /** `api` or `apply` (declarative config): which one made the last change. */
  managedBy: "api" | "apply";
}

/**
 * Where a record's secret is sealed to: the additional data that ties a sealed value to its place,
 * so a sealed value copied into another record (or another secret's slot) does not open.
 */
export function secretPlace(kind: "sources" | "subscriptions", id: string, secretId: string): string {
  return `${kind}/${id}/secrets/${secretId}`;
}

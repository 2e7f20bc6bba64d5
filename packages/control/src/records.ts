import { standardWebhooksSigningKey, type SigningKey } from "@tributary/verify";
import type { SealingKeys } from "./sealed.js";
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

/**
 * What every subscription record holds besides its delivery settings (which the delivery package's
 * DestinationSchema describes): its pause, its signing secrets sealed, and its bookkeeping.
 */
export interface SubscriptionState {
  description?: string;
  paused: boolean;
  pausedReason?: string;
  pausedAt?: string;
  /** standard-webhooks signing secrets (whsec_…), sealed; every unexpired one signs. */
  signingSecrets: StoredSecret[];
  createdAt: string;
  updatedAt: string;
  managedBy: "api" | "apply";
}

/** The fields of a subscription record that are not delivery settings. */
export const SUBSCRIPTION_STATE_FIELDS = [
  "description",
  "paused",
  "pausedReason",
  "pausedAt",
  "signingSecrets",
  "createdAt",
  "updatedAt",
  "managedBy",
] as const;

/** A subscription's signing keys at `now`: every secret not yet expired, opened. */
export function openSigningKeys(
  keys: SealingKeys,
  id: string,
  secrets: readonly StoredSecret[],
  now: Date,
): SigningKey[] {
  return secrets
    .filter((s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime())
    .map((s) => standardWebhooksSigningKey(keys.open(s.sealed, secretPlace("subscriptions", id, s.id))));
}

/** When the next of these secrets stops signing (a rotation's overlap ends), if any is still to. */
export function nextExpiry(secrets: readonly StoredSecret[], now: Date): Date | undefined {
  const times = secrets
    .map((s) => (s.expiresAt === undefined ? Number.NaN : Date.parse(s.expiresAt)))
    .filter((t) => t > now.getTime());
  return times.length > 0 ? new Date(Math.min(...times)) : undefined;
}

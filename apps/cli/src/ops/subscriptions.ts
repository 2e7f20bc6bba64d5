import type { ManagementApi } from "./api.js";
import {
  desiredSubscription,
  isObject,
  readJson,
  subscriptionEntrySchema,
  subscriptionSettingKeys,
} from "./config-file.js";
import { OperatorError } from "./context.js";
import { resourcePath, updateResource, type SecretView, type Settings, type SubscriptionView } from "./resources.js";

/** Webhook subscriptions through the management API: changes, tests and resends need a write token. */

export interface SubscriptionFlags {
  url?: string;
  source?: string[];
  type?: string[];
  filter?: string;
  description?: string;
  fromFile?: string;
}

/** The file's settings (a delivery destination's shape, no name needed) with the flags over them. */
function entryOf(flags: SubscriptionFlags): Record<string, unknown> {
  let entry: Record<string, unknown> = {};
  if (flags.fromFile) {
    const raw = readJson(flags.fromFile, "--from-file");
    if (!isObject(raw))
      throw new OperatorError("bad_argument", `--from-file ${flags.fromFile}: expected a JSON object`);
    entry = raw;
  }
  if (flags.url) entry.url = flags.url;
  if (flags.source) entry.sources = flags.source;
  if (flags.type) entry.types = flags.type;
  if (flags.filter) entry.filter = flags.filter;
  if (flags.description) entry.description = flags.description;
  return entry;
}

/** The body of a new subscription, and what of the file the API does not take. */
export async function subscriptionCreateBody(
  id: string,
  flags: SubscriptionFlags & { paused?: boolean },
): Promise<{ body: Settings; notes: string[] }> {
  const entry = entryOf(flags);
  if (flags.paused) entry.paused = true;
  if (entry.url === undefined) throw new OperatorError("bad_argument", "--url is required (or a url in --from-file)");
  const desired = desiredSubscription(
    id,
    entry,
    await subscriptionEntrySchema(),
    flags.fromFile ?? `subscriptions.${id}`,
  );
  return {
    body: { id, ...desired.settings, ...(desired.paused !== undefined ? { paused: desired.paused } : {}) },
    notes: desired.notes,
  };
}

export function createSubscription(
  api: ManagementApi,
  body: Settings,
): Promise<{ subscription: SubscriptionView; signingSecret: string }> {
  return api.post("/v1/subscriptions", body);
}

/** Changes what the flags and the file give; the other settings stay as they are. */
export async function updateSubscription(
  api: ManagementApi,
  id: string,
  flags: SubscriptionFlags,
): Promise<{ subscription: SubscriptionView; notes: string[] }> {
  const { paused, ...given } = entryOf(flags);
  if (Object.keys(given).length === 0)
    throw new OperatorError(
      "bad_argument",
      "nothing to change: give --url, --source, --type, --filter, --description or --from-file",
    );
  const schema = await subscriptionEntrySchema();
  let notes: string[] = paused === undefined ? [] : ["paused is not changed by update: use pause or resume"];
  const subscription = await updateResource<SubscriptionView>(
    api,
    "subscriptions",
    id,
    (settings) => {
      const where = flags.fromFile ?? `subscriptions.${id}`;
      const desired = desiredSubscription(id, { ...settings, ...given }, schema, where);
      notes = [...notes, ...desired.notes];
      return desired.settings;
    },
    await subscriptionSettingKeys(),
  );
  return { subscription, notes };
}

const post = <T>(api: ManagementApi, id: string, action: string, body: unknown = {}) =>
  api.post<T>(resourcePath("subscriptions", id, `/${action}`), body);

export function pauseSubscription(api: ManagementApi, id: string, reason?: string): Promise<SubscriptionView> {
  return post(api, id, "pause", reason ? { reason } : {});
}

export function resumeSubscription(api: ManagementApi, id: string): Promise<SubscriptionView> {
  return post(api, id, "resume");
}

export interface RotatedSecret {
  subscription: SubscriptionView;
  signingSecret: string;
  secret: SecretView;
}

export function rotateSigningSecret(api: ManagementApi, id: string, overlapSeconds?: number): Promise<RotatedSecret> {
  return post(api, id, "rotate-secret", overlapSeconds === undefined ? {} : { overlapSeconds });
}

export interface TestSend {
  webhookId: string;
  delivered: boolean;
  status: number;
  latencyMs: number;
  response: string;
  error?: string;
}

export function testSubscription(api: ManagementApi, id: string): Promise<TestSend> {
  return post(api, id, "test");
}

export function resendEvent(api: ManagementApi, id: string, key: string): Promise<{ key: string; hubSeq: number }> {
  return post(api, id, "resend", { key });
}

export interface BulkResend {
  dryRun: boolean;
  matched: number;
  resent: number;
  scanned: number;
  truncated: boolean;
}

export function resendBulk(
  api: ManagementApi,
  id: string,
  opts: {
    from: Date;
    to: Date;
    sources?: string[];
    types?: string[];
    outcome?: "delivered" | "failed";
    limit?: number;
    dryRun: boolean;
  },
): Promise<BulkResend> {
  return post(api, id, "resend-bulk", {
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    ...(opts.sources ? { sources: opts.sources } : {}),
    ...(opts.types ? { types: opts.types } : {}),
    ...(opts.outcome ? { outcome: opts.outcome } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    dryRun: opts.dryRun,
  });
}

import type { ManagementApi } from "./api.js";
import {
  SOURCE_SETTING_KEYS,
  subscriptionSettingKeys,
  type DesiredConfig,
  type DesiredSource,
  type DesiredSubscription,
  type SourceSecretRef,
} from "./config-file.js";
import {
  listResources,
  settingsOf,
  type Kind,
  type Settings,
  type SourceView,
  type SubscriptionView,
} from "./resources.js";

/**
 * What `config apply` would change: per resource, create, update (which settings, which secrets
 * to add, pause or resume) or delete (with --prune), and what it cannot do through the API. The
 * comparison is of settings with defaults filled on both sides: a setting the file leaves out
 * means its default, as in the gateway's and delivery's config files.
 */

export interface FieldChange {
  /** Dotted path, e.g. `retry.maxAttempts`. */
  field: string;
  /** The API's value (undefined: not set). */
  from: unknown;
  /** The file's value (undefined: not set). */
  to: unknown;
}

export interface ResourcePlan {
  kind: Kind;
  id: string;
  /** none: the API has it as the file says (or keeps it: not in the file, without --prune). */
  action: "create" | "update" | "delete" | "none";
  /** The record's revision when read: updates and deletes send it as If-Match. */
  revision?: number;
  fields: FieldChange[];
  /** Source secrets the file names and the source lacks (their values are read at apply). */
  addSecrets: string[];
  /** Subscriptions: pause (true) or resume (false). */
  pause?: boolean;
  /** Differences the API cannot make: apply leaves them and exits 1. */
  cannot: string[];
  notes: string[];
}

/** A resource's plan with what apply sends (never printed: it holds references, and settings in full). */
export interface PlannedResource extends ResourcePlan {
  desired?: Settings;
  secretRefs?: SourceSecretRef[];
}

export interface ConfigPlan {
  resources: PlannedResource[];
  notes: string[];
  /** Resources apply would change (or cannot make as the file says). */
  changes: number;
}

/** Equal as JSON, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Settings)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Settings)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

const isPlain = (v: unknown): v is Settings => v !== null && typeof v === "object" && !Array.isArray(v);

/** The settings that differ, down to the leaves of nested objects (`retry.maxAttempts`). */
function differences(desired: Settings, current: Settings, prefix = ""): FieldChange[] {
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(current)])];
  return keys.flatMap((key) => {
    const to = desired[key];
    const from = current[key];
    if (sameJson(to, from)) return [];
    if (isPlain(to) && isPlain(from)) return differences(to, from, `${prefix}${key}.`);
    return [{ field: `${prefix}${key}`, from, to }];
  });
}

/**
 * Top-level settings the API has and the file does not: a PATCH merges, so the API cannot remove
 * them (nested ones go: a setting's object is replaced whole).
 */
function removals(kind: Kind, id: string, changes: FieldChange[]): { fields: FieldChange[]; cannot: string[] } {
  const removed = changes.filter((c) => c.to === undefined && !c.field.includes("."));
  return {
    fields: changes.filter((c) => !removed.includes(c)),
    cannot: removed.map(
      (c) =>
        `${c.field} is ${JSON.stringify(c.from)} in the API and not set in the file: the API cannot remove a setting — put it in the file, or delete ${kind}/${id} and apply again`,
    ),
  };
}

function planSource(desired: DesiredSource, current: SourceView | undefined): PlannedResource {
  const base = { kind: "sources" as const, id: desired.id, fields: [], addSecrets: [], cannot: [], notes: [] };
  if (!current)
    return {
      ...base,
      action: "create",
      desired: desired.settings,
      ...(desired.secrets ? { secretRefs: desired.secrets } : {}),
      notes: desired.secrets ? [] : ["the file names no secret: the server makes one (never printed by apply)"],
    };
  const plan: PlannedResource = { ...base, action: "none", revision: current.revision, desired: desired.settings };
  const wanted = (desired.settings.scheme as { type: string }).type;
  if (wanted !== current.scheme.type) {
    plan.cannot.push(
      `scheme.type is ${current.scheme.type} in the API and ${wanted} in the file: a source's scheme type cannot change — delete sources/${desired.id} and apply again`,
    );
  } else {
    const settings = settingsOf("sources", current, SOURCE_SETTING_KEYS);
    const { fields, cannot } = removals("sources", desired.id, differences(desired.settings, settings));
    plan.fields = fields;
    plan.cannot = cannot;
    const have = new Set(current.secrets.map((s) => s.id));
    const refs = (desired.secrets ?? []).filter((s) => !have.has(s.id));
    plan.addSecrets = refs.map((s) => s.id);
    plan.secretRefs = refs;
    const named = new Set((desired.secrets ?? current.secrets).map((s) => s.id));
    for (const s of current.secrets.filter((s) => !named.has(s.id)))
      plan.notes.push(
        `secret ${s.id} is not in the file: kept (\`tributary sources retire-secret ${desired.id} ${s.id}\` retires it)`,
      );
  }
  if (plan.fields.length || plan.addSecrets.length || plan.cannot.length) plan.action = "update";
  return plan;
}

function planSubscription(
  desired: DesiredSubscription,
  current: SubscriptionView | undefined,
  keys: readonly string[],
): PlannedResource {
  const base = { kind: "subscriptions" as const, id: desired.id, addSecrets: [], notes: desired.notes };
  const settings = { ...desired.settings, ...(desired.paused !== undefined ? { paused: desired.paused } : {}) };
  if (!current)
    return {
      ...base,
      action: "create",
      fields: [],
      cannot: [],
      desired: settings,
      notes: [...desired.notes, "its signing secret is made by the server (never printed by apply)"],
    };
  const found = removals(
    "subscriptions",
    desired.id,
    differences(desired.settings, settingsOf("subscriptions", current, keys)),
  );
  const pause = desired.paused !== undefined && desired.paused !== current.paused ? desired.paused : undefined;
  return {
    ...base,
    action: found.fields.length || found.cannot.length || pause !== undefined ? "update" : "none",
    revision: current.revision,
    fields: found.fields,
    cannot: found.cannot,
    desired: desired.settings,
    ...(pause !== undefined ? { pause } : {}),
  };
}

/** The plans of one kind: the file's resources, then the API's that the file does not name. */
function planKind<D extends { id: string }, V extends { id: string; revision: number }>(
  kind: Kind,
  desired: Map<string, D>,
  current: V[],
  prune: boolean,
  planOne: (d: D, v: V | undefined) => PlannedResource,
): PlannedResource[] {
  const byId = new Map(current.map((v) => [v.id, v]));
  const plans = [...desired.values()].map((d) => planOne(d, byId.get(d.id)));
  for (const v of current.filter((v) => !desired.has(v.id)))
    plans.push({
      kind,
      id: v.id,
      action: prune ? "delete" : "none",
      revision: v.revision,
      fields: [],
      addSecrets: [],
      cannot: [],
      notes: prune ? [] : ["not in the file: kept (--prune deletes it)"],
    });
  return plans;
}

/** Reads what the API has of each kind the file declares and compares. */
export async function planConfig(
  api: ManagementApi,
  desired: DesiredConfig,
  opts: { prune: boolean },
): Promise<ConfigPlan> {
  const resources: PlannedResource[] = [];
  if (desired.sources) {
    const current = await listResources<SourceView>(api, "sources");
    resources.push(...planKind("sources", desired.sources, current, opts.prune, planSource));
  }
  if (desired.subscriptions) {
    const current = await listResources<SubscriptionView>(api, "subscriptions");
    const keys = await subscriptionSettingKeys();
    resources.push(
      ...planKind("subscriptions", desired.subscriptions, current, opts.prune, (d, v) => planSubscription(d, v, keys)),
    );
  }
  return { resources, notes: desired.notes, changes: resources.filter((r) => r.action !== "none").length };
}

/** The plan as `config diff --json` prints it: without the settings and references apply sends. */
export function publicPlan(plan: ConfigPlan): { changes: number; notes: string[]; resources: ResourcePlan[] } {
  return {
    changes: plan.changes,
    notes: plan.notes,
    resources: plan.resources.map(({ desired: _d, secretRefs: _s, ...r }) => r),
  };
}

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ManagementApi } from "./api.js";
import { secretValue, type SourceSecretRef } from "./config-file.js";
import type { ConfigPlan, PlannedResource } from "./config-plan.js";
import { replaceSettings, resourcePath, type NewSecret } from "./resources.js";

/**
 * Carries out a plan: sources first (a subscription names them), creations and updates, then the
 * deletions of --prune (subscriptions first). Every secret value the file references is read
 * before the first change, so a missing one changes nothing. No secret value is printed: those
 * the server makes go to files in `secretsDir` (0600) when given, and are otherwise left unseen.
 */

export interface ApplyStep {
  kind: string;
  id: string;
  action: "create" | "update" | "add-secret" | "pause" | "resume" | "delete";
  detail: string;
}

export interface ApplyResult {
  applied: ApplyStep[];
  /** What the plan said the API cannot do: left as it is. */
  cannot: string[];
  /** Files written with secrets the server made. */
  secretFiles: string[];
}

interface ResolvedSecret {
  id: string;
  value: string;
  encoding?: "utf8" | "base64" | "hex";
}

function resolveAll(plan: ConfigPlan, env: NodeJS.ProcessEnv): Map<PlannedResource, ResolvedSecret[]> {
  const resolved = new Map<PlannedResource, ResolvedSecret[]>();
  for (const r of plan.resources) {
    if (r.kind !== "sources" || !r.secretRefs?.length || (r.action !== "create" && r.action !== "update")) continue;
    resolved.set(
      r,
      r.secretRefs.map((ref: SourceSecretRef) => ({
        id: ref.id,
        value: secretValue(ref, `sources.${r.id}.secrets[${ref.id}]`, env),
        ...(ref.encoding ? { encoding: ref.encoding } : {}),
      })),
    );
  }
  return resolved;
}

class Applier {
  readonly result: ApplyResult = { applied: [], cannot: [], secretFiles: [] };

  constructor(
    private readonly api: ManagementApi,
    private readonly secrets: Map<PlannedResource, ResolvedSecret[]>,
    private readonly secretsDir: string | undefined,
  ) {}

  private step(r: PlannedResource, action: ApplyStep["action"], detail: string): void {
    this.result.applied.push({ kind: r.kind, id: r.id, action, detail });
  }

  /** A secret the server made: to a file in secretsDir, or said to be unseen. */
  private keep(r: PlannedResource, made: NewSecret[], howToGetOne: string): string {
    if (made.length === 0) return "";
    if (!this.secretsDir)
      return `; the server made secret ${made.map((s) => s.id).join(", ")}, not shown: ${howToGetOne}`;
    const files = made.map((s) => {
      const file = join(this.secretsDir!, `${r.kind}.${r.id}.${s.id}.secret`);
      writeFileSync(file, `${s.value}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      this.result.secretFiles.push(file);
      return file;
    });
    return `; secret written to ${files.join(", ")}`;
  }

  async createSource(r: PlannedResource): Promise<void> {
    const secrets = this.secrets.get(r);
    const answer = await this.api.post<{ secrets: NewSecret[] }>("/v1/sources", {
      id: r.id,
      ...r.desired,
      ...(secrets ? { secrets } : {}),
    });
    const kept = this.keep(
      r,
      answer.secrets,
      `\`tributary sources add-secret ${r.id} <id>\` makes one and shows it once (or apply with --secrets-dir)`,
    );
    this.step(r, "create", `created${secrets ? ` with secrets ${secrets.map((s) => s.id).join(", ")}` : ""}${kept}`);
  }

  async createSubscription(r: PlannedResource): Promise<void> {
    const answer = await this.api.post<{ signingSecret: string }>("/v1/subscriptions", { id: r.id, ...r.desired });
    const kept = this.keep(
      r,
      [{ id: "k1", value: answer.signingSecret }],
      `\`tributary subscriptions rotate-secret ${r.id} --overlap-seconds 0\` shows a new one once (or apply with --secrets-dir)`,
    );
    this.step(r, "create", `created${kept}`);
  }

  async update(r: PlannedResource): Promise<void> {
    this.result.cannot.push(...r.cannot.map((c) => `${r.kind}/${r.id}: ${c}`));
    if (r.fields.length > 0) {
      await replaceSettings(this.api, r.kind, r.id, r.desired!, r.revision);
      this.step(r, "update", `set ${r.fields.map((f) => f.field).join(", ")}`);
    }
    for (const secret of this.secrets.get(r) ?? []) {
      await this.api.post(resourcePath("sources", r.id, "/secrets"), secret);
      this.step(r, "add-secret", `added secret ${secret.id}`);
    }
    if (r.pause !== undefined) {
      await this.api.post(
        resourcePath("subscriptions", r.id, r.pause ? "/pause" : "/resume"),
        r.pause ? { reason: "config apply" } : {},
      );
      this.step(r, r.pause ? "pause" : "resume", r.pause ? "paused" : "resumed");
    }
  }

  async delete(r: PlannedResource): Promise<void> {
    // With the revision the plan read: a record changed since is a conflict, not deleted unseen.
    await this.api.request("DELETE", resourcePath(r.kind, r.id), r.revision ? { ifMatch: r.revision } : {});
    this.step(r, "delete", "deleted (not in the file)");
  }
}

export async function applyConfig(
  api: ManagementApi,
  plan: ConfigPlan,
  opts: { secretsDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ApplyResult> {
  const secrets = resolveAll(plan, opts.env ?? process.env);
  if (opts.secretsDir) mkdirSync(opts.secretsDir, { recursive: true, mode: 0o700 });
  const applier = new Applier(api, secrets, opts.secretsDir);
  const byKind = (kind: string) => plan.resources.filter((r) => r.kind === kind);
  for (const kind of ["sources", "subscriptions"]) {
    for (const r of byKind(kind)) {
      if (r.action === "create") await (kind === "sources" ? applier.createSource(r) : applier.createSubscription(r));
      if (r.action === "update") await applier.update(r);
    }
  }
  for (const kind of ["subscriptions", "sources"])
    for (const r of byKind(kind).filter((r) => r.action === "delete")) await applier.delete(r);
  return applier.result;
}

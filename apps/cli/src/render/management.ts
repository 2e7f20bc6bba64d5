import { table } from "../format.js";
import type { ApplyResult } from "../ops/config-apply.js";
import type { ConfigPlan, FieldChange, ResourcePlan } from "../ops/config-plan.js";
import {
  settingsOf,
  type Kind,
  type NewSecret,
  type SecretView,
  type Settings,
  type SourceView,
  type SubscriptionView,
} from "../ops/resources.js";
import type { BulkResend, TestSend } from "../ops/subscriptions.js";
import type { EraseReport } from "../ops/erase.js";

// The text `sources`, `subscriptions` and `config` print without --json. Secret values appear
// only in `secretsOnce`, for the answers that carry them.

const short = (value: unknown, max = 60): string => {
  const text = value === undefined ? "(not set)" : typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

const secretIds = (secrets: SecretView[]) =>
  secrets.map((s) => (s.expiresAt ? `${s.id} (until ${s.expiresAt})` : s.id)).join(", ");

export function sourcesText(list: SourceView[]): string {
  if (list.length === 0) return "no sources (create one with `tributary sources create <id> --scheme <type>`)";
  return table(
    ["source", "scheme", "tolerance", "secrets", "managed by", "updated"],
    list.map((s) => [s.id, s.scheme.type, `${s.toleranceSeconds} s`, secretIds(s.secrets), s.managedBy, s.updatedAt]),
  );
}

export function subscriptionsText(list: SubscriptionView[]): string {
  if (list.length === 0) return "no subscriptions (create one with `tributary subscriptions create <id> --url URL`)";
  return table(
    ["subscription", "url", "sources", "types", "state", "signing secrets", "managed by"],
    list.map((s) => [
      s.id,
      short(s.url, 50),
      s.sources.join(", ") || "all",
      s.types.join(", ") || "all",
      s.paused ? `paused${s.pausedReason ? `: ${short(s.pausedReason, 40)}` : ""}` : "active",
      secretIds(s.signingSecrets),
      s.managedBy,
    ]),
  );
}

/** One record: its settings one per row, then its secrets (ids and dates) and bookkeeping. */
export function recordText(kind: Kind, view: SourceView | SubscriptionView): string {
  const settings: Settings = settingsOf(kind, view);
  const secrets = kind === "sources" ? (view as SourceView).secrets : (view as SubscriptionView).signingSecrets;
  const rows: Array<[string, string]> = [
    ["id", view.id],
    ["revision", String(view.revision)],
    ...Object.entries(settings).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  ];
  if (kind === "subscriptions") {
    const s = view as SubscriptionView;
    rows.push([
      "paused",
      s.paused ? `yes${s.pausedReason ? `: ${s.pausedReason}` : ""}${s.pausedAt ? ` (at ${s.pausedAt})` : ""}` : "no",
    ]);
  }
  rows.push(
    [
      kind === "sources" ? "secrets" : "signing secrets",
      secrets
        .map((s) => `${s.id} (made ${s.createdAt}${s.expiresAt ? `, signs until ${s.expiresAt}` : ""})`)
        .join("\n"),
    ],
    ["managed by", view.managedBy],
    ["created", view.createdAt],
    ["updated", view.updatedAt],
  );
  return table(["field", "value"], rows);
}

/** Secret values the server made, marked: they are in this answer and nowhere else. */
export function secretsOnce(secrets: NewSecret[]): string {
  if (secrets.length === 0) return "";
  return [
    "",
    "SHOWN ONCE — store it now; the API never shows it again:",
    ...secrets.map((s) => `  ${s.id}: ${s.value}`),
  ].join("\n");
}

export function testText(id: string, t: TestSend): string {
  const outcome = t.delivered ? "delivered" : "NOT delivered";
  const answer = t.status ? `HTTP ${t.status} in ${t.latencyMs.toFixed(0)} ms` : "no answer";
  return `test event ${t.webhookId} to ${id}: ${outcome} (${answer})${t.error ? `\nerror: ${t.error}` : ""}${t.response && !t.delivered ? `\nresponse: ${short(t.response, 200)}` : ""}`;
}

export function bulkText(id: string, r: BulkResend): string {
  const more = r.truncated ? "; stopped at the limit: narrow the range or run again from where it stopped" : "";
  if (r.dryRun)
    return `dry run: ${r.matched} events would be resent to ${id} (${r.scanned} scanned${more}); add --yes to resend them`;
  return `${r.resent} events resent to ${id} (${r.matched} matched, ${r.scanned} scanned${more})`;
}

const fieldText = (f: FieldChange) => `${f.field}: ${short(f.from, 40)} → ${short(f.to, 40)}`;

function resourceLines(r: ResourcePlan): string[] {
  const name = `${r.kind}/${r.id}`;
  const lines: string[] = [];
  if (r.action === "create") lines.push(`+ create ${name}`);
  if (r.action === "delete") lines.push(`- delete ${name}`);
  if (r.action === "update") {
    lines.push(`~ update ${name}`);
    lines.push(...r.fields.map((f) => `    ${fieldText(f)}`));
    lines.push(...r.addSecrets.map((s) => `    add secret ${s}`));
    if (r.pause !== undefined) lines.push(`    ${r.pause ? "pause" : "resume"}`);
    lines.push(...r.cannot.map((c) => `    ! cannot: ${c}`));
  }
  if (r.action === "none" && r.notes.length) lines.push(`  ${name}`);
  lines.push(...r.notes.map((n) => `    note: ${n}`));
  return lines;
}

export function planText(plan: ConfigPlan, file: string): string {
  const lines = [...plan.notes.map((n) => `note: ${n}`), ...plan.resources.flatMap(resourceLines)];
  const summary =
    plan.changes === 0
      ? "no changes: the API matches the file"
      : `${plan.changes} resource${plan.changes === 1 ? "" : "s"} to change (\`tributary config apply --file ${file}\`)`;
  return [...lines, summary].join("\n");
}

export function applyText(result: ApplyResult): string {
  const lines = result.applied.map((s) => `${s.kind}/${s.id}: ${s.detail}`);
  if (lines.length === 0 && result.cannot.length === 0) lines.push("nothing to change: the API matches the file");
  lines.push(...result.cannot.map((c) => `NOT APPLIED: ${c}`));
  return lines.join("\n");
}

export function eraseText(report: EraseReport): string {
  const streams = Object.entries(report.streams)
    .map(([stream, n]) => `${stream} ${n}`)
    .join(", ");
  const copies = report.regional.copies.reduce((sum, r) => sum + r.copies.length, 0);
  const regional =
    report.regionalDeleted === null
      ? copies > 0 || report.regional.sources.length > 0
        ? `regions: not reached (no operator context): ${copies} copies and ${report.regional.sources.length} source purges left to the regional streams' age limit`
        : "regions: nothing to delete"
      : `regions: ${
          Object.entries(report.regionalDeleted)
            .map(([region, n]) => `${region} ${n}`)
            .join(", ") || "nothing to delete"
        }`;
  return [
    `erasure ${report.id} (${report.selector}) at ${report.at}`,
    `warehouse: ${report.rows} rows anonymised, ${report.deliveries} delivery log rows deleted`,
    `hub streams: ${streams}`,
    regional,
  ].join("\n");
}

import { bytes, duration, percent, table } from "../format.js";
import type { StatusReport, WarehouseLifecycle } from "../ops/status.js";
import type { Reconciliation } from "../ops/reconcile.js";
import type { ReplayResult } from "../ops/replay.js";
import type { doctor } from "../ops/doctor.js";
import type { DlqDetail, DlqReplayResult, listDlq } from "../ops/dlq.js";
import { destinationsText } from "./destinations.js";

// The text `status`, `reconcile`, `dlq`, `replay` and `doctor` print without --json.

export function statusText(s: StatusReport): string {
  const regions = table(
    ["region", "stream", "messages", "bytes", "fill", "input/s", "outage budget"],
    s.regions.map((r) =>
      r.reachable
        ? [
            r.region,
            r.stream,
            r.messages ?? "-",
            `${bytes(r.bytes)} of ${bytes(r.maxBytes)}`,
            percent(r.fill),
            (r.inputPerSecond ?? 0).toFixed(1),
            duration(r.outageBudgetSeconds),
          ]
        : [r.region, r.stream, `unreachable: ${r.error}`, "", "", "", ""],
    ),
  );
  const hub = s.hub.reachable
    ? table(
        ["hub", "value"],
        [
          ["stream EVENTS", `${s.hub.messages} messages, ${bytes(s.hub.bytes)}`],
          ...s.hub.sources.map((src) => [
            `source ${src.region}`,
            `lag ${src.lag}, last active ${duration(src.lastActiveSeconds)} ago${src.error ? `, error: ${src.error}` : ""}`,
          ]),
          [
            "enrich stage",
            s.hub.enrichStage
              ? `${s.hub.enrichStage.pending} pending, ${s.hub.enrichStage.ackPending} ack pending, ${s.hub.enrichStage.redelivered} redelivered`
              : "missing",
          ],
          [
            "loader consumer",
            s.hub.consumer
              ? `${s.hub.consumer.pending} pending, ${s.hub.consumer.ackPending} ack pending, ${s.hub.consumer.redelivered} redelivered`
              : "missing",
          ],
          ["DLQ", s.hub.dlqMessages === undefined ? "missing" : `${s.hub.dlqMessages} events`],
        ],
      )
    : `hub unreachable: ${s.hub.error}`;
  const w = s.warehouse;
  const warehouse = w.reachable
    ? table(
        ["warehouse", "value"],
        [
          ["rows", w.rows ?? "-"],
          ["newest received_at", w.newestReceivedAt ?? "-"],
          ["newest loaded_at", w.newestLoadedAt ?? "-"],
          ["end-to-end lag", duration(w.lagSeconds)],
        ],
      )
    : `warehouse unreachable: ${w.error}`;
  const lifecycle = w.lifecycle ? `\n${lifecycleText(w.lifecycle)}` : "";
  const delivery = !s.delivery
    ? ""
    : s.delivery.reachable
      ? `\n${destinationsText(s.delivery.destinations ?? [])}`
      : `\ndelivery unreachable: ${s.delivery.error}`;
  return `${regions}\n${hub}\n${warehouse}${lifecycle}${delivery}`;
}

/** A retention in the config's units: `90d`, `12h`, `forever`. */
function retentionText(seconds: number | null): string {
  if (seconds === null) return "forever";
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

function lifecycleText(l: WarehouseLifecycle): string {
  const tables = table(
    ["table", "rows", "oldest", "retention", "enforced by"],
    l.tables.map((t) => [t.table, t.rows, t.oldest ?? "-", retentionText(t.retentionSeconds), t.enforcedBy ?? "-"]),
  );
  const sweep = !l.lastSweep
    ? "retention: no pass yet"
    : l.lastSweep.error
      ? `retention: the last pass (${l.lastSweep.at}) failed: ${l.lastSweep.error}`
      : `retention: last pass ${l.lastSweep.at} deleted ${l.lastSweep.removed?.events ?? 0} events, ${l.lastSweep.removed?.deliveries ?? 0} delivery log rows, ${l.lastSweep.removed?.rollups ?? 0} rollup rows`;
  return `${tables}\n${sweep}`;
}

export function reconcileText(r: Reconciliation): string {
  const t = table(
    [
      "region",
      "stream seqs",
      "row runs",
      "gaps",
      "as another copy",
      "in DLQ",
      "pending",
      "expired",
      "erased",
      "lost",
      "doubled",
    ],
    r.regions.map((x) => [
      x.region,
      x.streamLastSeq === 0 ? "(empty)" : `${x.streamFirstSeq}–${x.streamLastSeq}`,
      x.rowRanges,
      x.gapSeqs,
      x.loadedAsAnotherCopy,
      x.inDlq,
      x.pending,
      x.expired,
      x.erased,
      x.lost.length,
      x.doubles.length,
    ]),
  );
  const details = r.regions.flatMap((x) => [
    ...x.lost
      .slice(0, 20)
      .map(
        (l) =>
          `lost: ${x.region} seq ${l.seq} key ${l.key}  (replay it: tributary replay --region ${x.region} --from-seq ${l.seq} --to ${l.seq})`,
      ),
    ...x.doubles.slice(0, 20).map((d) => `doubled: ${x.region} seq ${d.seq} in rows ${d.keys.join(", ")}`),
  ]);
  const pending = r.regions.some((x) => x.pending > 0)
    ? "\nthe loader still had work in flight after --settle: gaps count as pending, not lost; run again once it has caught up"
    : "";
  const dlq = r.regions.some((x) => x.inDlq > 0) ? "\nsome events wait in the DLQ (poison): `tributary dlq list`" : "";
  return `${t}\n${details.join("\n")}${pending}${dlq}\n${r.clean ? "clean: every event the streams hold has its row, none twice" : "NOT CLEAN: see above"}`;
}

export function dlqListText(list: Awaited<ReturnType<typeof listDlq>>): string {
  return `${list.total} in the DLQ\n${table(
    ["seq", "at", "source", "region", "type", "event key", "reason"],
    list.entries.map((e) => [e.seq, e.at, e.source, e.region, e.eventType, e.eventKey, e.reason.slice(0, 80)]),
  )}`;
}

export function dlqEntryText(entry: DlqDetail): string {
  return `${table(
    ["field", "value"],
    [
      ["seq", entry.seq],
      ["at", entry.at],
      ["reason", entry.reason],
      ["origin", entry.origin],
      ["event key", entry.eventKey],
      ["source / region / type", `${entry.source} / ${entry.region} / ${entry.eventType}`],
    ],
  )}\nheaders: ${JSON.stringify(entry.headers, null, 2)}\nbody:\n${entry.body}`;
}

export function dlqReplayText(results: DlqReplayResult[]): string {
  return results
    .map((r) =>
      r.replayed ? `replayed ${r.seq} → ${r.to!.stream} seq ${r.to!.seq}` : `not replayed ${r.seq}: ${r.error}`,
    )
    .join("\n");
}

export function replayText(result: ReplayResult): string {
  return `replayed ${result.replayed} events of ${result.stream} (seq ${result.fromSeq}–${result.toSeq}) into the hub; the loader adds only those the warehouse does not have`;
}

export function doctorText(result: Awaited<ReturnType<typeof doctor>>): string {
  return `${table(
    ["check", "status", "detail", "fix"],
    result.checks.map((c) => [c.name, c.status, c.detail, c.fix ?? ""]),
  )}\n${result.ok ? "no failures" : "FAILURES: see the fix column"}`;
}

import type { RunReport } from "./run.js";

const n = (v: number | null) => (v === null ? "n/a" : String(v));

/** One Markdown table of several runs (RESULTS.md), in the order given. */
export function summaryTable(reports: readonly RunReport[]): string {
  const head = [
    "| tier | fault | nats (us) | warehouse | offered ev/s | achieved ev/s | 202 / 200 / 4xx / 5xx | failed | ack p50 / p95 / p99 ms | e2e p50 / p99 / max ms | acked keys / rows | missing | doubled | result |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const rows = reports.map((r) => {
    const a = r.accounting;
    const doubled = a.doubledKeys + a.doubledEvents + (a.physicalCopies ?? 0);
    const failed = r.checks.filter((c) => !c.pass).map((c) => c.name);
    // Reports from before the fsync/replica switches ran R1 with lazy fsync.
    const nats = r.nats ?? { usReplicas: 1, fsync: "lazy" };
    return (
      `| ${r.tier} | ${r.fault ? r.fault.kind : "—"} | R${nats.usReplicas} ${nats.fsync} | ${r.warehouse} | ${r.offered.eventsPerSecond} | ${r.achieved.eventsPerSecond} | ` +
      `${r.statusClasses["202"]} / ${r.statusClasses["200"]} / ${r.statusClasses["4xx"]} / ${r.statusClasses["5xx"]} | ${r.failedEvents + r.dropped.events} | ` +
      `${n(r.ackMs.p50)} / ${n(r.ackMs.p95)} / ${n(r.ackMs.p99)} | ${n(r.e2eMs.p50)} / ${n(r.e2eMs.p99)} / ${n(r.e2eMs.max)} | ${a.acknowledgedKeys} / ${a.rows} | ${a.missing} | ${doubled} | ` +
      `${r.pass ? "pass" : `FAIL (${failed.join("; ")})`} |`
    );
  });
  return [...head, ...rows].join("\n");
}

/** CPU per process of one run, as a Markdown list line. */
export function cpuLine(r: RunReport): string {
  const procs = r.cpu.processes.map((p) => `${p.name} ${p.percentOfCore.toFixed(0)} %`).join(", ");
  return `${procs}; machine busy ${r.cpu.machineBusyPercent?.toFixed(0) ?? "?"} % of ${r.cpu.cores} cores, other work ${r.cpu.othersPercentOfCore?.toFixed(0) ?? "?"} % of a core`;
}

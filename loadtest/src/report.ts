import type { RunReport } from "./run.js";

const ms = (v: number | null) => (v === null ? "n/a" : `${v} ms`);

/** The report as a few lines for the terminal (and RESULTS.md). */
export function formatReport(r: RunReport): string {
  const a = r.accounting;
  const lines = [
    `tier ${r.tier} (${r.range})${r.fault ? `, fault ${r.fault.kind} from ${r.fault.startSecond.toFixed(1)} s (down at ${r.fault.downSecond.toFixed(1)} s for ${r.fault.holdSeconds} s, recovered at ${r.fault.endSecond.toFixed(1)} s): ${r.fault.description}` : ", no fault"}`,
    `machine: ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; warehouse ${r.warehouse}; durability: ${r.durability}`,
    `offered  ${r.offered.events} events in ${r.durationSeconds} s = ${r.offered.eventsPerSecond}/s (${r.offered.requests} requests at ${r.offered.requestsPerSecond}/s: ${r.offered.singles} single, ${r.offered.batches} batch, ${r.offered.resends} resend)`,
    `achieved ${r.achieved.events} events acknowledged = ${r.achieved.eventsPerSecond}/s (last ack at ${r.achieved.lastAckSecond} s); dropped by the driver's in-flight bound: ${r.dropped.requests} requests / ${r.dropped.events} events`,
    `answers  202 ${r.statusClasses["202"]}, 200 ${r.statusClasses["200"]}, 4xx ${r.statusClasses["4xx"]}, 5xx ${r.statusClasses["5xx"]}, network ${r.statusClasses.network} (${Object.entries(
      r.answers,
    )
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ")}); events failed after retries: ${r.failedEvents}`,
    `ack      p50 ${ms(r.ackMs.p50)}, p95 ${ms(r.ackMs.p95)}, p99 ${ms(r.ackMs.p99)}, max ${ms(r.ackMs.max)} (from the intended send time)`,
    `e2e      p50 ${ms(r.e2eMs.p50)}, p95 ${ms(r.e2eMs.p95)}, p99 ${ms(r.e2eMs.p99)}, max ${ms(r.e2eMs.max)} (received_at → loaded_at)`,
    `accounting: ${a.acknowledgedKeys} acknowledged keys, ${a.rows} rows; missing ${a.missing}, doubled keys ${a.doubledKeys}, doubled events ${a.doubledEvents}` +
      `${a.physicalCopies === null ? "" : `, ClickHouse physical copies ${a.physicalCopies}`}, unexpected ${a.unexpected}, stored after a refusal ${a.storedAfterRefusal}; drained ${r.drain.drained ? "yes" : "NO"} in ${r.drain.seconds} s` +
      (a.missingSample.length ? `\n  missing e.g. ${a.missingSample.join(", ")}` : ""),
    `cpu (% of one core over ${r.cpu.seconds.toFixed(0)} s): ${r.cpu.processes.map((p) => `${p.name} ${p.percentOfCore.toFixed(0)}%`).join(", ")}; machine busy ${r.cpu.machineBusyPercent?.toFixed(0) ?? "?"}% of ${r.cpu.cores} cores, other work ${r.cpu.othersPercentOfCore?.toFixed(0) ?? "?"}% of a core`,
    "checks:",
    ...r.checks.map((c) => `  ${c.pass ? "pass" : "FAIL"}  ${c.name}: ${c.value} (${c.limit})`),
    r.pass ? "PASS" : "FAIL",
  ];
  return lines.join("\n");
}

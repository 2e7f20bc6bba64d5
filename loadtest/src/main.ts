#!/usr/bin/env node
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { ConfigError } from "@tributary/config";
import { FAULT_KINDS, isFaultKind } from "./faults.js";
import { renderPlot } from "./plot.js";
import { formatReport } from "./report.js";
import { natsSetup, runLoadTest, type RunReport, type RunResult } from "./run.js";
import { cpuLine, summaryTable } from "./summary.js";
import { DEFAULT_TIERS_FILE, findTier, loadTiers } from "./tiers.js";

const USAGE = `usage: pnpm loadtest --tier <name> [--fault ${FAULT_KINDS.join("|")}] [--duration <s>] [--rate <events/s>]
                     [--fault-at <s>] [--fault-seconds <s>] [--fsync always|lazy] [--replicas 1|3]
                     [--seed <n>] [--out <dir>] [--tiers <file>] [--verbose]
       --fsync always: every nats-server fsyncs each write before its PubAck (power-loss durability)
       --replicas 3: region us runs as a 3-node cluster with R3 streams (node-kill implies it)
       pnpm loadtest --summarize <dir>   (a Markdown table of the reports in dir)

Starts the local multi-region system on free loopback ports, offers the tier's events open loop,
waits for the warehouse, and counts every acknowledged event. Exit 0 when every threshold and the
accounting pass, 1 when one fails, 2 on bad arguments.`;

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(flag, `must be a positive number, got ${JSON.stringify(value)}`, `e.g. ${flag} 30`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      tier: { type: "string" },
      fault: { type: "string" },
      duration: { type: "string" },
      rate: { type: "string" },
      "fault-at": { type: "string" },
      "fault-seconds": { type: "string" },
      fsync: { type: "string" },
      replicas: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      tiers: { type: "string" },
      verbose: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      summarize: { type: "string" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.summarize) {
    summarize(resolve(values.summarize));
    return 0;
  }
  const tiers = loadTiers(values.tiers ?? DEFAULT_TIERS_FILE);
  if (!values.tier)
    throw new ConfigError("--tier", "is required", `use one of ${tiers.tiers.map((t) => t.name).join(", ")}`);
  const tier = findTier(tiers, values.tier);
  if (values.fault !== undefined && !isFaultKind(values.fault))
    throw new ConfigError(
      "--fault",
      `names no fault: ${JSON.stringify(values.fault)}`,
      `use one of ${FAULT_KINDS.join(", ")}`,
    );
  const fault = values.fault;
  const faultAt = positiveNumber("--fault-at", values["fault-at"]);
  const faultSeconds = positiveNumber("--fault-seconds", values["fault-seconds"]);
  if (values.fsync !== undefined && values.fsync !== "always" && values.fsync !== "lazy")
    throw new ConfigError(
      "--fsync",
      `must be always or lazy, got ${JSON.stringify(values.fsync)}`,
      "e.g. --fsync always",
    );
  if (values.replicas !== undefined && values.replicas !== "1" && values.replicas !== "3")
    throw new ConfigError("--replicas", `must be 1 or 3, got ${JSON.stringify(values.replicas)}`, "e.g. --replicas 3");
  const nats = {
    fsync: values.fsync as "always" | "lazy" | undefined,
    usReplicas: values.replicas === undefined ? undefined : (Number(values.replicas) as 1 | 3),
  };
  const tty = process.stderr.isTTY;
  const result = await runLoadTest({
    tiers,
    tier,
    fault,
    durationSeconds: positiveNumber("--duration", values.duration),
    rate: positiveNumber("--rate", values.rate),
    faultAtMs: faultAt === undefined ? undefined : faultAt * 1000,
    faultHoldMs: faultSeconds === undefined ? undefined : faultSeconds * 1000,
    seed: positiveNumber("--seed", values.seed),
    ...nats,
    output: values.verbose ? "inherit" : "buffer",
    // One line per second; on a terminal it rewrites itself.
    progress: (line) => process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`),
  });
  if (tty) process.stderr.write("\n");
  const out = resolve(values.out ?? join(fileURLToPath(new URL("..", import.meta.url)), "results"));
  const { report } = result;
  const name = `${report.tier}${report.fault ? `-${report.fault.kind}` : ""}${natsSetup({ ...nats, fault }).suffix}`;
  await writeResults(out, name, result);
  return report.pass ? 0 : 1;
}

/** `--summarize DIR`: a Markdown table of the reports in DIR, and each run's CPU line. */
function summarize(dir: string): void {
  const reports = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as RunReport)
    .sort(
      (a, b) =>
        a.offered.requestsPerSecond - b.offered.requestsPerSecond ||
        (a.fault?.kind ?? "").localeCompare(b.fault?.kind ?? ""),
    );
  console.log(summaryTable(reports));
  for (const r of reports) {
    const setup = r.nats ? ` (us R${r.nats.usReplicas}, fsync ${r.nats.fsync})` : "";
    console.log(`- ${r.tier}${r.fault ? ` + ${r.fault.kind}` : ""}${setup}: ${cpuLine(r)}`);
  }
}

/** Writes `<name>.json` (the report) and `<name>.svg` (the plot) into `out`, and prints the report. */
async function writeResults(out: string, name: string, { report, timeline, faultMark }: RunResult): Promise<void> {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.json`), JSON.stringify(report, null, 2) + "\n");
  const setup = `${report.nats.usReplicas === 3 ? ", us R3" : ""}${report.nats.fsync === "always" ? ", fsync always" : ""}`;
  const title = `Tributary load test: tier ${report.tier} (${report.range})${report.fault ? `, ${report.fault.kind}` : ""}${setup}`;
  writeFileSync(join(out, `${name}.svg`), await renderPlot(timeline, title, faultMark));
  console.log(formatReport(report));
  console.log(`report: ${join(out, `${name}.json`)}\nplot:   ${join(out, `${name}.svg`)}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);

import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { Option, type Command } from "commander";
import { SingleBar } from "cli-progress";
import { positiveInt, seqList, time } from "../args.js";
import { cliOf, type Cli } from "../cli.js";
import { OperatorError } from "../ops/context.js";
import { collectStatus } from "../ops/status.js";
import { reconcile } from "../ops/reconcile.js";
import { rebuildRollups, rebuildText } from "../ops/rollups.js";
import { allDlqSeqs, dropDlq, listDlq, replayDlq, showDlq } from "../ops/dlq.js";
import { replayRange, type ReplayProgress } from "../ops/replay.js";
import { doctor } from "../ops/doctor.js";
import {
  dlqEntryText,
  dlqListText,
  dlqReplayText,
  doctorText,
  reconcileText,
  replayText,
  statusText,
} from "../render/operating.js";

/** Operating a deployment: `status`, `reconcile`, `dlq …`, `replay` (and `doctor`, registered on its own). */
export function registerOperating(program: Command): void {
  const cli = cliOf(program);
  program
    .command("status")
    .description(
      "per region: stream size, fill, input rate and outage budget; hub: source lag, loader backlog, DLQ; warehouse: rows and freshness; destinations: breaker and backlog",
    )
    .option("--sample-ms <ms>", "how long to watch the input rate", positiveInt, 1000)
    .action(async (opts: { sampleMs: number }) => {
      const report = await collectStatus(cli.context(), { sampleMs: opts.sampleMs });
      cli.print(report, () => statusText(report));
      if (
        !report.hub.reachable ||
        !report.warehouse.reachable ||
        report.regions.some((r) => !r.reachable) ||
        report.delivery?.reachable === false
      )
        process.exitCode = 1;
    });
  program
    .command("reconcile")
    .description(
      "compare each region's stream sequences with the warehouse's (region, region_seq): report lost events and doubles; exit 1 on either",
    )
    .option("--region <region...>", "only these regions")
    .option("--settle <seconds>", "wait up to this long for in-flight events to load first", positiveInt, 30)
    .action(async (opts: { region?: string[]; settle: number }) => {
      const result = await reconcile(cli.context(), {
        ...(opts.region ? { regions: opts.region } : {}),
        settleMs: opts.settle * 1000,
      });
      cli.print(result, () => reconcileText(result));
      if (!result.clean) process.exitCode = 1;
    });
  registerRebuild(program, cli);
  registerDlq(program, cli);
  registerReplay(program, cli);
}

/** `rebuild rollups [--since <time>]`: the warehouse's rollups recomputed from its rows, through the aggregator. */
function registerRebuild(program: Command, cli: Cli): void {
  program
    .command("rebuild")
    .description("recompute derived tables from the event rows")
    .command("rollups")
    .description(
      "recompute the warehouse's analytics rollups from the rows (after a fix to how they are counted): all of them, or every bucket from --since on; loads wait meanwhile",
    )
    .addOption(
      new Option("--since <time>", "rebuild from this minute on (ISO 8601); default: all time").argParser(time),
    )
    .action(async (opts: { since?: Date }) => {
      const result = await rebuildRollups(cli.context(), opts.since ? { since: opts.since } : {});
      cli.print(result, () => rebuildText(result));
    });
}

/** `doctor`: after `destinations` in the help, as it always was, so main.ts registers it last. */
export function registerDoctor(program: Command): void {
  const cli = cliOf(program);
  program
    .command("doctor")
    .description(
      "check a deployment's health and settings (versions, JetStream domains, leaf links, sync_interval, outage budgets, warehouse) and say what to fix",
    )
    .option("--min-outage-budget <seconds>", "the outage budget each region must have", positiveInt, 3600)
    .action(async (opts: { minOutageBudget: number }) => {
      const result = await doctor(cli.context(), { minOutageBudgetSeconds: opts.minOutageBudget });
      cli.print(result, () => doctorText(result));
      if (!result.ok) process.exitCode = 1;
    });
}

function registerDlq(program: Command, cli: Cli): void {
  const dlq = program
    .command("dlq")
    .description("poison events: list them with their reasons, show one, replay after a fix, or drop");
  dlq
    .command("list")
    .description("the DLQ's entries, oldest first")
    .option("--limit <n>", "at most", positiveInt, 100)
    .action(async (opts: { limit: number }) => {
      const list = await listDlq(cli.context(), opts);
      cli.print(list, () => dlqListText(list));
    });
  dlq
    .command("show <seq>")
    .description("one entry: its reason, origin, headers and body")
    .action(async (seq: string) => {
      const entry = await showDlq(cli.context(), seqList([seq])[0]!);
      cli.print(entry, () => dlqEntryText(entry));
    });
  dlq
    .command("replay [seqs...]")
    .description("put entries back into the pipeline (removed from the DLQ once the hub has them); safe to repeat")
    .option("--all", "every entry")
    .option("--body-file <file>", "replace the body with this file's bytes (a corrected event)")
    .action(async (seqs: string[], opts: { all?: boolean; bodyFile?: string }) => {
      const context = cli.context();
      const targets = opts.all ? await allDlqSeqs(context) : seqList(seqs);
      if (targets.length === 0)
        throw new OperatorError(
          "bad_argument",
          "name the entries to replay (sequence numbers from `tributary dlq list`), or --all",
        );
      const results = await replayDlq(context, targets, opts.bodyFile ? { body: readFileSync(opts.bodyFile) } : {});
      cli.print(results, () => dlqReplayText(results));
      if (results.some((r) => !r.replayed)) process.exitCode = 1;
    });
  dlq
    .command("drop [seqs...]")
    .description("delete entries for good (asks first)")
    .option("--all", "every entry")
    .option("--yes", "do not ask")
    .action((seqs: string[], opts: { all?: boolean; yes?: boolean }) => dropDlqEntries(cli, seqs, opts));
}

async function dropDlqEntries(cli: Cli, seqs: string[], opts: { all?: boolean; yes?: boolean }): Promise<void> {
  const context = cli.context();
  const targets = opts.all ? await allDlqSeqs(context) : seqList(seqs);
  if (targets.length === 0)
    throw new OperatorError(
      "bad_argument",
      "name the entries to drop (sequence numbers from `tributary dlq list`), or --all",
    );
  if (!opts.yes) {
    if (!process.stdin.isTTY)
      throw new OperatorError("bad_argument", `dropping ${targets.length} entries needs confirmation: pass --yes`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`drop ${targets.length} DLQ entries for good? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log("nothing dropped");
      return;
    }
  }
  const results = await dropDlq(context, targets);
  cli.print(results, () => `dropped ${results.filter((r) => r.dropped).length} of ${results.length}`);
}

interface ReplayOpts {
  region: string;
  fromSeq?: number;
  since?: Date;
  to?: number;
  progress: boolean;
}

function registerReplay(program: Command, cli: Cli): void {
  program
    .command("replay")
    .description(
      "reload a range of a region's stream into the warehouse; rows already there stay single (the unique key)",
    )
    .requiredOption("--region <region>", "the region whose stream holds the events")
    .option("--from-seq <seq>", "first sequence (default: the oldest the stream holds)", positiveInt)
    .option("--since <time>", "or from the first event stored at this time", time)
    .option("--to <seq>", "last sequence (default: the newest)", positiveInt)
    .addOption(new Option("--no-progress", "no progress bar"))
    .action((opts: ReplayOpts) => replay(cli, opts));
}

async function replay(cli: Cli, opts: ReplayOpts): Promise<void> {
  if (opts.fromSeq !== undefined && opts.since)
    throw new OperatorError("bad_argument", "use --from-seq or --since, not both");
  const bar =
    opts.progress && !cli.globals().json && process.stderr.isTTY
      ? new SingleBar({
          format: "replay [{bar}] {value}/{total} events | {rate}/s | ETA {eta_formatted}",
          stream: process.stderr,
        })
      : undefined;
  const started = Date.now();
  let barStarted = false;
  const onProgress = (p: ReplayProgress) => {
    if (!bar) return;
    if (!barStarted) {
      bar.start(p.total, 0, { rate: 0 });
      barStarted = true;
    }
    bar.update(p.replayed, { rate: Math.round(p.replayed / Math.max(0.001, (Date.now() - started) / 1000)) });
  };
  const result = await replayRange(
    cli.context(),
    {
      region: opts.region,
      ...(opts.fromSeq ? { fromSeq: opts.fromSeq } : {}),
      ...(opts.since ? { since: opts.since } : {}),
      ...(opts.to ? { toSeq: opts.to } : {}),
    },
    onProgress,
  );
  bar?.stop();
  cli.print(result, () => replayText(result));
}

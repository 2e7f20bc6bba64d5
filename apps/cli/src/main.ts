#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SingleBar } from "cli-progress";
import { DEFAULT_TOPOLOGY, readSecret, secretFileOf, startTopology, type DestinationSpec } from "@tributary/local";
import { renderProductionNatsConfigs } from "./render-nats.js";
import { curlExample, SENDABLE_SCHEMES, sendEvents, signerFor } from "./send.js";
import { aggregatorEndpoint, OperatorError, readContext, regionOf, type OperatorContext } from "./ops/context.js";
import { serviceJson } from "./ops/http.js";
import { collectStatus, type StatusReport } from "./ops/status.js";
import { reconcile, type Reconciliation } from "./ops/reconcile.js";
import { replayRange } from "./ops/replay.js";
import { doctor } from "./ops/doctor.js";
import {
  deliveryLog,
  destinationDlq,
  destinationStatus,
  replayDestinationDlq,
  replayDestinationRange,
} from "./ops/destinations.js";
import { bytes, duration, percent, table } from "./format.js";

// The DLQ commands read entries with @tributary/loader, which loads the warehouse and with it
// DuckDB's native bindings: imported when one of them runs, so `--help` and every other command
// start without them.
const dlqOps = () => import("./ops/dlq.js");

const program = new Command();
// Usage errors exit 2 (the README's promise), not commander's 1: it throws instead of exiting,
// and the handler at the bottom maps the code. Subcommands inherit this.
program.exitOverride();
program
  .name("tributary")
  .description(
    "Tributary, the multi-region ingestion gateway: run the local system, send test events, and operate a deployment.",
  )
  .option("--state-dir <dir>", "where `up` keeps the local system's state", DEFAULT_TOPOLOGY.stateDir)
  .option("--context <file>", "the deployment to operate on (default: <state-dir>/context.json, written by `up`)")
  .option("--json", "print JSON for scripts instead of tables")
  .showHelpAfterError("(add --help for usage)")
  .addHelpText(
    "after",
    `
Examples:
  $ tributary up                                  # the local system: hub, regions us and eu, gateways, aggregator
  $ tributary up --destinations destinations.json # … and the delivery process, fanning out to HTTP destinations
  $ tributary up --cluster                        # each region and the hub as a 3-node NATS cluster, R3 streams
  $ tributary send --count 100 --rate 20 --resend-share 0.1 --region eu
  $ tributary status                              # streams, lag, outage budget, DLQ, warehouse freshness
  $ tributary reconcile                           # every acknowledged event has its row, none twice (exit 1 if not)
  $ tributary dlq list && tributary dlq replay 3 --body-file fixed.json
  $ tributary replay --region us --from-seq 1000 --to 2000
  $ tributary destinations && tributary destinations log crm --outcome dlq
  $ tributary doctor                              # versions, domains, leaf links, sync_interval, budgets
  $ tributary --context prod.json status --json   # a deployment, described by a context file (apps/cli/README.md)`,
  );

interface Globals {
  stateDir: string;
  context?: string;
  json?: boolean;
}
const globals = () => program.opts<Globals>();
const contextOf = (): OperatorContext => readContext(globals().context ?? join(globals().stateDir, "context.json"));
const print = (data: unknown, human: () => string) =>
  console.log(globals().json ? JSON.stringify(data, null, 2) : human());

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of 1 or more");
  return n;
}
/** A whole number from 1 to `max` (what the service's API takes in one call). */
function upTo(max: number): (value: string) => number {
  return (value) => {
    const n = positiveInt(value);
    if (n > max)
      throw new InvalidArgumentError(`must be at most ${max.toLocaleString("en")} (one call's limit; repeat for more)`);
    return n;
  };
}
function ratio(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("must be between 0 and 1");
  return n;
}
function rate(value: string): number {
  const n = Number(value);
  if (!(n >= 0)) throw new InvalidArgumentError("must be 0 (as fast as answers come) or more events per second");
  return n;
}
function time(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError("must be a date and time, e.g. 2026-11-29T10:00:00Z");
  return d;
}
/** `--destinations FILE`: a JSON array of destinations (or `{"destinations": [...]}`), as apps/delivery takes them. */
function readDestinations(file: string): DestinationSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new OperatorError("bad_argument", `--destinations ${file}: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { destinations?: unknown } | null)?.destinations;
  if (!Array.isArray(list))
    throw new OperatorError(
      "bad_argument",
      `--destinations ${file}: expected a JSON array of destinations (or {"destinations": [...]}); see packages/delivery/README.md`,
    );
  list.forEach((d: unknown, i) => {
    if (typeof (d as { name?: unknown } | null)?.name !== "string")
      throw new OperatorError(
        "bad_argument",
        `--destinations ${file}: destinations[${i}].name is missing — give each destination a name like "crm"`,
      );
  });
  return list as DestinationSpec[];
}

function seqList(values: string[]): number[] {
  return values.map((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new OperatorError(
        "bad_argument",
        `${JSON.stringify(v)} is not a DLQ sequence number (see \`tributary dlq list\`)`,
      );
    return n;
  });
}

/** The scheme a source has in the local gateway config of a region, if `up` wrote one. */
function localSchemeOf(region: string, source: string): string | undefined {
  const file = join(resolve(globals().stateDir), `gateway-${region}.json`);
  if (!existsSync(file)) return undefined;
  const config = JSON.parse(readFileSync(file, "utf8")) as { sources?: Record<string, { scheme?: { type?: string } }> };
  return config.sources?.[source]?.scheme?.type;
}

// ---- the local system ------------------------------------------------------------------------

program
  .command("up")
  .description(
    "start the local system: a hub and two regions (us, eu), a gateway per region and the aggregator loading DuckDB; Ctrl-C (or `tributary down`) stops it",
  )
  .option(
    "--destinations <file>",
    "also run the delivery process with these destinations (a JSON array, as in packages/delivery/README.md)",
  )
  .option(
    "--cluster",
    "run each region and the hub as a 3-node NATS cluster with R3 streams (one node may fail); default one nats-server each",
  )
  .action(async (opts: { destinations?: string; cluster?: boolean }) => {
    const stateDir = resolve(globals().stateDir);
    const destinations = opts.destinations ? readDestinations(opts.destinations) : [];
    const options = {
      ...DEFAULT_TOPOLOGY,
      stateDir,
      destinations,
      output: "inherit" as const,
      ...(opts.cluster ? { cluster: { size: 3 } } : {}),
    };
    console.log(
      `starting the hub, the regions${opts.cluster ? " (3-node clusters each)" : ""} and their gateways, the aggregator${destinations.length > 0 ? " and the delivery process" : ""}…`,
    );
    const topology = await startTopology(options);
    const pidFile = join(stateDir, "up.pid");
    writeFileSync(pidFile, String(process.pid));
    const regionLines = [...topology.regions.values()]
      .map(
        (r) =>
          `  region ${r.region}   gateway ${r.gatewayUrl}   NATS ${r.natsUrls.join(", ")} (domain ${r.region}, stream EVENTS_${r.region.toUpperCase()}${r.nodes.length > 1 ? `, R${r.nodes.length}` : ""})`,
      )
      .join("\n");
    const us = topology.regions.get("us")!;
    console.log(`
Tributary is running:
${regionLines}
  hub         NATS ${topology.hubNodes.map((n) => n.url).join(", ")} (domain hub, stream EVENTS sourcing every region${topology.hubNodes.length > 1 ? `, R${topology.hubNodes.length}` : ""})
  aggregator  ${topology.aggregatorUrl}   (DuckDB: ${stateDir}/tributary.duckdb)
${topology.delivery ? `  delivery    ${topology.delivery.url}   (destinations: ${destinations.map((d) => d.name).join(", ")}; \`npm run tributary -- destinations\`)\n` : ""}  metrics     ${us.gatewayUrl}/metrics, ${topology.aggregatorUrl}/metrics${topology.delivery ? `, ${topology.delivery.url}/metrics` : ""} (Prometheus format)

Send a signed event to region us (copy and paste into another terminal; use port ${DEFAULT_TOPOLOGY.gatewayPorts[1]} for eu):

${curlExample(us.gatewayUrl, options.source, topology.secretFile)}

  or: npm run tributary -- send --count 10 --region eu

See the rows that landed in DuckDB (an event sent to both regions is one row), and the pipeline:

  npm run tributary -- rows
  npm run tributary -- status
  npm run tributary -- reconcile

Press Ctrl-C (or run \`npm run tributary -- down\`) to stop.
`);
    const stop = async () => {
      console.log("stopping…");
      await topology.stop();
      rmSync(pidFile, { force: true });
      process.exit(0);
    };
    process.once("SIGINT", () => void stop());
    process.once("SIGTERM", () => void stop());
  });

program
  .command("down")
  .description("stop the local system started by `tributary up` (in another terminal)")
  .action(async () => {
    const pidFile = join(resolve(globals().stateDir), "up.pid");
    if (!existsSync(pidFile))
      throw new OperatorError(
        "not_found",
        `nothing to stop: no ${pidFile} (is \`tributary up\` running with this --state-dir?)`,
      );
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      rmSync(pidFile, { force: true });
      throw new OperatorError("not_found", `process ${pid} is not running; removed the stale ${pidFile}`);
    }
    for (let waited = 0; waited < 60_000; waited += 200) {
      try {
        process.kill(pid, 0);
      } catch {
        print({ stopped: pid }, () => `stopped (pid ${pid})`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new OperatorError("unreachable", `process ${pid} did not stop within 60 s`);
  });

program
  .command("send")
  .description("sign and send test events to a region's gateway, printing each receipt")
  .option("--region <region>", "the region whose gateway gets them", "us")
  .option("--source <id>", "the source the events are signed for", DEFAULT_TOPOLOGY.source)
  .option("--type <type>", "event type of the samples", "link.clicked")
  .option("--count <n>", "how many to send", positiveInt, 1)
  .option("--rate <perSecond>", "events per second (0: one after another)", rate, 0)
  .option("--resend-share <ratio>", "share of sends that resend an earlier event (same key), 0–1", ratio, 0)
  .option("--url <url>", "a gateway URL (default: the region's, from the context)")
  .addOption(
    new Option("--scheme <scheme>", "how to sign (default: the source's scheme in the local gateway config)").choices([
      ...SENDABLE_SCHEMES,
    ]),
  )
  .option("--secret-file <file>", "the signing secret (default: the local one, <state-dir>/secrets/<source>.secret)")
  .action(
    async (opts: {
      region: string;
      source: string;
      type: string;
      count: number;
      rate: number;
      resendShare: number;
      url?: string;
      scheme?: string;
      secretFile?: string;
    }) => {
      const url = opts.url ?? regionOf(contextOf(), opts.region).gatewayUrl;
      if (!url)
        throw new OperatorError("bad_argument", `the context has no gateway URL for ${opts.region}: pass --url`);
      const secret = readSecret(opts.secretFile ?? secretFileOf(globals().stateDir, opts.source));
      const scheme = opts.scheme ?? localSchemeOf(opts.region, opts.source) ?? "webhook-hmac-sha256";
      let sign;
      try {
        sign = signerFor(scheme, secret);
      } catch (err) {
        throw new OperatorError("bad_argument", (err as Error).message);
      }
      const results = await sendEvents({
        url,
        source: opts.source,
        secret,
        sign,
        type: opts.type,
        count: opts.count,
        rate: opts.rate,
        resendShare: opts.resendShare,
        onResult: (r) => {
          if (!globals().json) console.log(r.status, r.resend ? "(resend)" : "", JSON.stringify(r.body));
        },
      });
      if (globals().json) console.log(JSON.stringify(results, null, 2));
      if (results.some((r) => r.status >= 300)) process.exitCode = 1;
    },
  );

program
  .command("rows")
  .description("show the newest rows in the warehouse")
  .option("--limit <n>", "how many", positiveInt, 5)
  .action(async (opts: { limit: number }) => {
    console.log(
      JSON.stringify(await serviceJson(aggregatorEndpoint(contextOf()), `/v1/events?limit=${opts.limit}`), null, 2),
    );
  });

program
  .command("render-nats")
  .description("write the production nats-server configs (hub, one per region)")
  .option("--out <dir>", "where", "deploy/nats")
  .option("--regions <list>", "comma-separated region ids", "us,eu")
  .option("--destinations <list>", "comma-separated destination names: the hub gets a delivery user for them")
  .action((opts: { out: string; regions: string; destinations?: string }) => {
    mkdirSync(opts.out, { recursive: true });
    for (const [name, text] of renderProductionNatsConfigs(
      opts.regions.split(","),
      opts.destinations?.split(",") ?? [],
    )) {
      writeFileSync(join(opts.out, name), text);
      console.log(`wrote ${join(opts.out, name)}`);
    }
  });

// ---- operating a deployment ------------------------------------------------------------------

function statusText(s: StatusReport): string {
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
  const delivery = !s.delivery
    ? ""
    : s.delivery.reachable
      ? `\n${destinationsText(s.delivery.destinations ?? [])}`
      : `\ndelivery unreachable: ${s.delivery.error}`;
  return `${regions}\n${hub}\n${warehouse}${delivery}`;
}

program
  .command("status")
  .description(
    "per region: stream size, fill, input rate and outage budget; hub: source lag, loader backlog, DLQ; warehouse: rows and freshness; destinations: breaker and backlog",
  )
  .option("--sample-ms <ms>", "how long to watch the input rate", positiveInt, 1000)
  .action(async (opts: { sampleMs: number }) => {
    const report = await collectStatus(contextOf(), { sampleMs: opts.sampleMs });
    print(report, () => statusText(report));
    if (
      !report.hub.reachable ||
      !report.warehouse.reachable ||
      report.regions.some((r) => !r.reachable) ||
      report.delivery?.reachable === false
    )
      process.exitCode = 1;
  });

function reconcileText(r: Reconciliation): string {
  const t = table(
    ["region", "stream seqs", "row runs", "gaps", "as another copy", "in DLQ", "pending", "lost", "doubled"],
    r.regions.map((x) => [
      x.region,
      x.streamLastSeq === 0 ? "(empty)" : `${x.streamFirstSeq}–${x.streamLastSeq}`,
      x.rowRanges,
      x.gapSeqs,
      x.loadedAsAnotherCopy,
      x.inDlq,
      x.pending,
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

program
  .command("reconcile")
  .description(
    "compare each region's stream sequences with the warehouse's (region, region_seq): report lost events and doubles; exit 1 on either",
  )
  .option("--region <region...>", "only these regions")
  .option("--settle <seconds>", "wait up to this long for in-flight events to load first", positiveInt, 30)
  .action(async (opts: { region?: string[]; settle: number }) => {
    const result = await reconcile(contextOf(), {
      ...(opts.region ? { regions: opts.region } : {}),
      settleMs: opts.settle * 1000,
    });
    print(result, () => reconcileText(result));
    if (!result.clean) process.exitCode = 1;
  });

const dlq = program
  .command("dlq")
  .description("poison events: list them with their reasons, show one, replay after a fix, or drop");
dlq
  .command("list")
  .description("the DLQ's entries, oldest first")
  .option("--limit <n>", "at most", positiveInt, 100)
  .action(async (opts: { limit: number }) => {
    const list = await (await dlqOps()).listDlq(contextOf(), opts);
    print(
      list,
      () =>
        `${list.total} in the DLQ\n${table(
          ["seq", "at", "source", "region", "type", "event key", "reason"],
          list.entries.map((e) => [e.seq, e.at, e.source, e.region, e.eventType, e.eventKey, e.reason.slice(0, 80)]),
        )}`,
    );
  });
dlq
  .command("show <seq>")
  .description("one entry: its reason, origin, headers and body")
  .action(async (seq: string) => {
    const entry = await (await dlqOps()).showDlq(contextOf(), seqList([seq])[0]!);
    print(
      entry,
      () =>
        `${table(
          ["field", "value"],
          [
            ["seq", entry.seq],
            ["at", entry.at],
            ["reason", entry.reason],
            ["origin", entry.origin],
            ["event key", entry.eventKey],
            ["source / region / type", `${entry.source} / ${entry.region} / ${entry.eventType}`],
          ],
        )}\nheaders: ${JSON.stringify(entry.headers, null, 2)}\nbody:\n${entry.body}`,
    );
  });
dlq
  .command("replay [seqs...]")
  .description("put entries back into the pipeline (removed from the DLQ once the hub has them); safe to repeat")
  .option("--all", "every entry")
  .option("--body-file <file>", "replace the body with this file's bytes (a corrected event)")
  .action(async (seqs: string[], opts: { all?: boolean; bodyFile?: string }) => {
    const { allDlqSeqs, replayDlq } = await dlqOps();
    const context = contextOf();
    const targets = opts.all ? await allDlqSeqs(context) : seqList(seqs);
    if (targets.length === 0)
      throw new OperatorError(
        "bad_argument",
        "name the entries to replay (sequence numbers from `tributary dlq list`), or --all",
      );
    const results = await replayDlq(context, targets, opts.bodyFile ? { body: readFileSync(opts.bodyFile) } : {});
    print(results, () =>
      results
        .map((r) =>
          r.replayed ? `replayed ${r.seq} → ${r.to!.stream} seq ${r.to!.seq}` : `not replayed ${r.seq}: ${r.error}`,
        )
        .join("\n"),
    );
    if (results.some((r) => !r.replayed)) process.exitCode = 1;
  });
dlq
  .command("drop [seqs...]")
  .description("delete entries for good (asks first)")
  .option("--all", "every entry")
  .option("--yes", "do not ask")
  .action(async (seqs: string[], opts: { all?: boolean; yes?: boolean }) => {
    const { allDlqSeqs, dropDlq } = await dlqOps();
    const context = contextOf();
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
    print(results, () => `dropped ${results.filter((r) => r.dropped).length} of ${results.length}`);
  });

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
  .action(async (opts: { region: string; fromSeq?: number; since?: Date; to?: number; progress: boolean }) => {
    if (opts.fromSeq !== undefined && opts.since)
      throw new OperatorError("bad_argument", "use --from-seq or --since, not both");
    const bar =
      opts.progress && !globals().json && process.stderr.isTTY
        ? new SingleBar({
            format: "replay [{bar}] {value}/{total} events | {rate}/s | ETA {eta_formatted}",
            stream: process.stderr,
          })
        : undefined;
    const started = Date.now();
    let barStarted = false;
    const result = await replayRange(
      contextOf(),
      {
        region: opts.region,
        ...(opts.fromSeq ? { fromSeq: opts.fromSeq } : {}),
        ...(opts.since ? { since: opts.since } : {}),
        ...(opts.to ? { toSeq: opts.to } : {}),
      },
      (p) => {
        if (!bar) return;
        if (!barStarted) {
          bar.start(p.total, 0, { rate: 0 });
          barStarted = true;
        }
        bar.update(p.replayed, { rate: Math.round(p.replayed / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
    );
    bar?.stop();
    print(
      result,
      () =>
        `replayed ${result.replayed} events of ${result.stream} (seq ${result.fromSeq}–${result.toSeq}) into the hub; the loader adds only those the warehouse does not have`,
    );
  });

function destinationsText(list: Awaited<ReturnType<typeof destinationStatus>>): string {
  return table(
    ["destination", "breaker", "delivered", "retried", "dlq", "filtered", "in flight", "backlog", "mean latency"],
    list.map((d) => [
      d.name,
      d.breakerState,
      d.delivered,
      d.retried,
      d.dlq,
      d.filtered,
      d.inFlight,
      d.pending === undefined ? "?" : `${d.pending} pending, ${d.ackPending} in hand`,
      d.meanLatencyMs === undefined ? "-" : `${d.meanLatencyMs.toFixed(1)} ms`,
    ]),
  );
}

const destinations = program
  .command("destinations")
  .description(
    "delivery to HTTP destinations: each one's counters, breaker and backlog (subcommands: dlq, dlq-replay, replay, log)",
  )
  .action(async () => {
    const list = await destinationStatus(contextOf());
    print(list, () => (list.length === 0 ? "the delivery process has no destinations" : destinationsText(list)));
    if (list.some((d) => d.breakerState !== "closed")) process.exitCode = 1;
  });
destinations
  .command("dlq <name>")
  .description("a destination's dead letters, oldest first, with the reason and the destination's answer")
  .option("--limit <n>", "at most", upTo(1_000), 100)
  .option("--from-seq <seq>", "first DLQ sequence", positiveInt)
  .action(async (name: string, opts: { limit: number; fromSeq?: number }) => {
    const page = await destinationDlq(contextOf(), name, opts);
    print(
      page,
      () =>
        `${table(
          ["seq", "at", "event key", "attempts", "status", "reason", "response"],
          page.entries.map((e) => [
            e.seq,
            e.at,
            e.eventKey,
            e.attempts,
            e.status || "-",
            e.reason.slice(0, 60),
            e.response.slice(0, 60),
          ]),
        )}${page.nextSeq ? `\nmore: --from-seq ${page.nextSeq}` : ""}`,
    );
  });
destinations
  .command("dlq-replay <name>")
  .description(
    "deliver a destination's dead letters again (same ids, fresh attempts, that destination only); they leave its DLQ",
  )
  .option("--limit <n>", "at most this many entries", upTo(10_000))
  .action(async (name: string, opts: { limit?: number }) => {
    const result = await replayDestinationDlq(contextOf(), name, opts);
    print(result, () => `${result.replayed} dead letters of ${name} put back for delivery`);
  });
destinations
  .command("replay <name>")
  .description("deliver the events of a time range again to one destination (those it takes: sources, types, filter)")
  .requiredOption("--since <time>", "from events stored at this time", time)
  .option("--until <time>", "to events stored at this time (default: now)", time)
  .option("--limit <n>", "at most this many events", upTo(100_000))
  .action(async (name: string, opts: { since: Date; until?: Date; limit?: number }) => {
    const result = await replayDestinationRange(contextOf(), name, {
      from: opts.since,
      to: opts.until ?? new Date(),
      ...(opts.limit ? { limit: opts.limit } : {}),
    });
    print(
      result,
      () =>
        `${result.replayed} events put back for ${name} (${result.scanned} scanned${result.truncated ? "; stopped at the limit: run again from the last one" : ""})`,
    );
  });
destinations
  .command("log [name]")
  .description("the newest delivery attempts, from the warehouse (every attempt: status, latency, error)")
  .option("--event-key <key>", "only this event's attempts")
  .addOption(new Option("--outcome <outcome>", "only these").choices(["delivered", "retry", "dlq"]))
  .option("--limit <n>", "how many", upTo(1_000), 20)
  .action(async (name: string | undefined, opts: { eventKey?: string; outcome?: string; limit: number }) => {
    const log = await deliveryLog(contextOf(), {
      limit: opts.limit,
      ...(name ? { destination: name } : {}),
      ...(opts.eventKey ? { eventKey: opts.eventKey } : {}),
      ...(opts.outcome ? { outcome: opts.outcome } : {}),
    });
    print(
      log,
      () =>
        `${log.total} attempts match\n${table(
          ["at", "destination", "event key", "attempt", "outcome", "status", "latency", "error"],
          log.attempts.map((a) => [
            a.at,
            a.destination,
            a.event_key,
            a.attempt,
            a.outcome,
            a.status || "-",
            `${a.latency_ms} ms`,
            a.error.slice(0, 60),
          ]),
        )}`,
    );
  });

program
  .command("doctor")
  .description(
    "check a deployment's health and settings (versions, JetStream domains, leaf links, sync_interval, outage budgets, warehouse) and say what to fix",
  )
  .option("--min-outage-budget <seconds>", "the outage budget each region must have", positiveInt, 3600)
  .action(async (opts: { minOutageBudget: number }) => {
    const result = await doctor(contextOf(), { minOutageBudgetSeconds: opts.minOutageBudget });
    print(
      result,
      () =>
        `${table(
          ["check", "status", "detail", "fix"],
          result.checks.map((c) => [c.name, c.status, c.detail, c.fix ?? ""]),
        )}\n${result.ok ? "no failures" : "FAILURES: see the fix column"}`,
    );
    if (!result.ok) process.exitCode = 1;
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed it
  const e = err as Error & { code?: string };
  console.error(`tributary: ${e.message}`);
  if (process.env.TRIBUTARY_DEBUG) console.error(e.stack);
  process.exit(err instanceof OperatorError && e.code === "bad_argument" ? 2 : 1);
});

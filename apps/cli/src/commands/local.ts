import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import {
  DEFAULT_DELIVERY_PORT,
  DEFAULT_TOPOLOGY,
  deliveryScopeOf,
  readSecret,
  secretFileOf,
  startTopology,
} from "@tributary/local";
import { positiveInt, rate, ratio, readDestinations } from "../args.js";
import { cliOf, type Cli } from "../cli.js";
import { aggregatorEndpoint, OperatorError, regionOf } from "../ops/context.js";
import { serviceJson } from "../ops/http.js";
import { DEFAULT_TLS_DIR, renderProductionNatsConfigs } from "../render-nats.js";
import { upBanner } from "../render/local.js";
import { SENDABLE_SCHEMES, sendEvents, signerFor } from "../send.js";

/** The local system: `up`, `down`, `send`, `rows`, `render-nats`. */
export function registerLocal(program: Command): void {
  const cli = cliOf(program);
  registerUp(program, cli);
  registerDown(program, cli);
  registerSend(program, cli);
  program
    .command("rows")
    .description("show the newest rows in the warehouse")
    .option("--limit <n>", "how many", positiveInt, 5)
    .action(async (opts: { limit: number }) => {
      console.log(
        JSON.stringify(await serviceJson(aggregatorEndpoint(cli.context()), `/v1/events?limit=${opts.limit}`), null, 2),
      );
    });
  program
    .command("render-nats")
    .description("write the production nats-server configs (hub, one per region), TLS on every listener and link")
    .option("--out <dir>", "where", "deploy/nats")
    .option("--regions <list>", "comma-separated region ids", "us,eu")
    .option(
      "--destinations <list>",
      "comma-separated destination names of every source and type: the hub gets a delivery user for them",
    )
    .option(
      "--destinations-file <file>",
      "the delivery process's destinations (JSON, as `up --destinations`): the delivery user's consumers are pinned to each one's sources and types",
    )
    .option("--tls-dir <dir>", "where the servers read tls.crt, tls.key (and, in regions, hub-ca.crt)", DEFAULT_TLS_DIR)
    .action(
      (opts: { out: string; regions: string; destinations?: string; destinationsFile?: string; tlsDir: string }) => {
        const destinations = [
          ...(opts.destinations?.split(",") ?? []),
          ...(opts.destinationsFile ? readDestinations(opts.destinationsFile).map(deliveryScopeOf) : []),
        ];
        mkdirSync(opts.out, { recursive: true });
        for (const [name, text] of renderProductionNatsConfigs(opts.regions.split(","), destinations, opts.tlsDir)) {
          writeFileSync(join(opts.out, name), text);
          console.log(`wrote ${join(opts.out, name)}`);
        }
      },
    );
}

function registerUp(program: Command, cli: Cli): void {
  program
    .command("up")
    .description(
      "start the local system: a hub and two regions (us, eu), a gateway per region, the aggregator loading DuckDB (serving the query and management APIs) and the delivery process; Ctrl-C (or `tributary down`) stops it",
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
      const stateDir = resolve(cli.globals().stateDir);
      const destinations = opts.destinations ? readDestinations(opts.destinations) : [];
      const options = {
        ...DEFAULT_TOPOLOGY,
        stateDir,
        destinations,
        // The delivery process always runs (subscriptions of the management API); its usual port.
        deliveryPort: DEFAULT_DELIVERY_PORT,
        output: "inherit" as const,
        ...(opts.cluster ? { cluster: { size: 3 } } : {}),
      };
      console.log(
        `starting the hub, the regions${opts.cluster ? " (3-node clusters each)" : ""} and their gateways, the aggregator and the delivery process…`,
      );
      const topology = await startTopology(options);
      const pidFile = join(stateDir, "up.pid");
      writeFileSync(pidFile, String(process.pid));
      console.log(upBanner(topology, stateDir, destinations, options.source));
      const stop = async () => {
        console.log("stopping…");
        await topology.stop();
        rmSync(pidFile, { force: true });
        process.exit(0);
      };
      process.once("SIGINT", () => void stop());
      process.once("SIGTERM", () => void stop());
    });
}

function registerDown(program: Command, cli: Cli): void {
  program
    .command("down")
    .description("stop the local system started by `tributary up` (in another terminal)")
    .action(async () => {
      const pidFile = join(resolve(cli.globals().stateDir), "up.pid");
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
          cli.print({ stopped: pid }, () => `stopped (pid ${pid})`);
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new OperatorError("unreachable", `process ${pid} did not stop within 60 s`);
    });
}

interface SendOpts {
  region: string;
  source: string;
  type: string;
  count: number;
  rate: number;
  resendShare: number;
  url?: string;
  scheme?: string;
  secretFile?: string;
}

function registerSend(program: Command, cli: Cli): void {
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
      new Option("--scheme <scheme>", "how to sign (default: the source's scheme in the local gateway config)").choices(
        [...SENDABLE_SCHEMES],
      ),
    )
    .option("--secret-file <file>", "the signing secret (default: the local one, <state-dir>/secrets/<source>.secret)")
    .action((opts: SendOpts) => send(cli, opts));
}

async function send(cli: Cli, opts: SendOpts): Promise<void> {
  const url = opts.url ?? regionOf(cli.context(), opts.region).gatewayUrl;
  if (!url) throw new OperatorError("bad_argument", `the context has no gateway URL for ${opts.region}: pass --url`);
  const secret = readSecret(opts.secretFile ?? secretFileOf(cli.globals().stateDir, opts.source));
  const scheme =
    opts.scheme ?? localSchemeOf(cli.globals().stateDir, opts.region, opts.source) ?? "webhook-hmac-sha256";
  let sign;
  try {
    sign = signerFor(scheme, secret);
  } catch (err) {
    throw new OperatorError("bad_argument", (err as Error).message);
  }
  const json = cli.globals().json;
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
      if (!json) console.log(r.status, r.resend ? "(resend)" : "", JSON.stringify(r.body));
    },
  });
  if (json) console.log(JSON.stringify(results, null, 2));
  if (results.some((r) => r.status >= 300)) process.exitCode = 1;
}

/** The scheme a source has in the local gateway config of a region, if `up` wrote one. */
function localSchemeOf(stateDir: string, region: string, source: string): string | undefined {
  const file = join(resolve(stateDir), `gateway-${region}.json`);
  if (!existsSync(file)) return undefined;
  const config = JSON.parse(readFileSync(file, "utf8")) as { sources?: Record<string, { scheme?: { type?: string } }> };
  return config.sources?.[source]?.scheme?.type;
}

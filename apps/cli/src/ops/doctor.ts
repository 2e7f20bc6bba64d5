import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import {
  HUB_SOURCE_CONSUMER,
  HUB_STREAM,
  MIN_NATS_SERVER_VERSION,
  natsServerIsRecentEnough,
  outageBudgetSeconds,
  regionalStreamName,
} from "@tributary/streams";
import { connectAdmin, type OperatorContext } from "./context.js";
import { destinationStatus } from "./destinations.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do, when not ok. */
  fix?: string;
}

export interface DoctorOptions {
  /** The outage budget each region must have at its current input (seconds); default one hour. */
  minOutageBudgetSeconds?: number;
}

const MIN_NODE_MAJOR = 22;

/** `sync_interval: always` in a nats-server config file (what power-loss durability needs). */
function syncAlways(configFile: string | undefined): boolean | undefined {
  if (!configFile || !existsSync(configFile)) return undefined;
  return /sync_interval\s*:\s*"?always"?/.test(readFileSync(configFile, "utf8"));
}

function versionCheck(name: string, version: string): Check {
  return natsServerIsRecentEnough(version)
    ? { name: `${name}: nats-server version`, status: "ok", detail: version }
    : {
        name: `${name}: nats-server version`,
        status: "fail",
        detail: `${version} (needs ≥ ${MIN_NATS_SERVER_VERSION.join(".")})`,
        fix: "upgrade nats-server to 2.15: older servers stall a stream source on every duplicate and lack durable sourcing, which the hub relies on",
      };
}

function domainCheck(name: string, actual: string, domain: string): Check {
  return actual === domain
    ? { name: `${name}: JetStream domain`, status: "ok", detail: domain }
    : {
        name: `${name}: JetStream domain`,
        status: "fail",
        detail: `"${actual}" (expected "${domain}")`,
        fix: `set jetstream { domain: ${domain} } in the server's config`,
      };
}

function syncCheck(name: string, configFile: string | undefined): Check {
  const sync = syncAlways(configFile);
  if (sync === true)
    return { name: `${name}: sync_interval`, status: "ok", detail: "always (a PubAck survives power loss)" };
  return sync === false
    ? {
        name: `${name}: sync_interval`,
        status: "warn",
        detail: "lazy fsync (the default, every 2 minutes)",
        fix: "set jetstream { sync_interval: always } where a PubAck must survive power loss (about 5× slower publishes here; see deploy/README.md)",
      }
    : {
        name: `${name}: sync_interval`,
        status: "warn",
        detail: "unknown (no config file in the context)",
        fix: "add the server's configFile to the context, or check the config by hand",
      };
}

/** A region's durable consumer the hub sources through, and how long the region can be cut off. */
async function regionStreamChecks(
  jsm: JetStreamManager,
  name: string,
  info: StreamInfo,
  opts: DoctorOptions,
): Promise<Check[]> {
  const stream = info.config.name;
  const sourceConsumer = await jsm.consumers.info(stream, HUB_SOURCE_CONSUMER).catch(() => undefined);
  const checks: Check[] = [
    sourceConsumer
      ? {
          name: `${name}: hub source consumer`,
          status: "ok",
          detail: `${HUB_SOURCE_CONSUMER}, ${sourceConsumer.num_pending} not yet sourced`,
        }
      : {
          name: `${name}: hub source consumer`,
          status: "fail",
          detail: `${HUB_SOURCE_CONSUMER} is missing on ${stream}: the hub cannot source this region`,
          fix: "provision the region again (the gateway chart's Job, or `tributary up` locally): it creates the consumer from hubSourceConsumerConfig",
        },
  ];
  // The input rate over one second, in bytes, sets how long the free space lasts.
  const first = info.state.last_seq;
  const startedAt = Date.now();
  await sleep(1_000);
  const later = await jsm.streams.info(stream);
  const avg = later.state.messages > 0 ? later.state.bytes / later.state.messages : 0;
  const ingress = ((later.state.last_seq - first) * avg) / ((Date.now() - startedAt) / 1000);
  const budget = outageBudgetSeconds({
    bytes: later.state.bytes,
    maxBytes: later.config.max_bytes,
    maxAgeMs: (later.config.max_age ?? 0) / 1e6,
    ingressBytesPerSecond: ingress,
  });
  const min = opts.minOutageBudgetSeconds ?? 3600;
  checks.push(
    budget >= min
      ? {
          name: `${name}: outage budget`,
          status: "ok",
          detail: `${Math.round(budget)} s at the current input (limits: max_bytes ${later.config.max_bytes}, max_age ${Math.round((later.config.max_age ?? 0) / 1e9)} s)`,
        }
      : {
          name: `${name}: outage budget`,
          status: "fail",
          detail: `${Math.round(budget)} s at the current input, below the ${min} s wanted`,
          fix: `raise the stream's max_bytes (and max_age) so it holds ${min} s of peak input`,
        },
  );
  return checks;
}

/** Whether the hub stream sources each region of the context, and how recently each source was active. */
function hubSourceChecks(context: OperatorContext, info: StreamInfo): Check[] {
  return Object.keys(context.regions).map((region): Check => {
    const source = (info.sources ?? []).find((s) => s.name === regionalStreamName(region));
    if (!source) {
      return {
        name: `hub: sources ${region}`,
        status: "fail",
        detail: "the hub stream does not source this region",
        fix: "add the region to the hub stream's sources (the hub chart's regions list)",
      };
    }
    const activeSeconds = source.active >= 0 ? source.active / 1e9 : Infinity;
    if (source.error) {
      return {
        name: `hub: leaf link ${region}`,
        status: "fail",
        detail: source.error.description,
        fix: "check the region's leafnode remote and its credentials",
      };
    }
    return activeSeconds > 60
      ? {
          name: `hub: leaf link ${region}`,
          status: "warn",
          detail: `source last active ${Math.round(activeSeconds)} s ago, lag ${source.lag}`,
          fix: "a region with traffic should be sourced within seconds: check the leafnode connection (/leafz)",
        }
      : { name: `hub: leaf link ${region}`, status: "ok", detail: `sourced, lag ${source.lag}` };
  });
}

async function serverChecks(
  context: OperatorContext,
  name: string,
  url: string,
  domain: string,
  stream: string,
  configFile: string | undefined,
  opts: DoctorOptions,
  checks: Check[],
): Promise<void> {
  let nc;
  try {
    nc = await connectAdmin(context, url, "tributary-doctor");
  } catch (err) {
    checks.push({
      name: `${name}: reachable`,
      status: "fail",
      detail: (err as Error).message,
      fix: `start the server, or correct its URL in the context file`,
    });
    return;
  }
  try {
    checks.push(versionCheck(name, nc.info?.version ?? "unknown"));
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const account = await jsm.getAccountInfo().catch(() => undefined);
    checks.push(domainCheck(name, account?.domain ?? "", domain), syncCheck(name, configFile));
    const info = await jsm.streams.info(stream).catch(() => undefined);
    if (!info) {
      checks.push({
        name: `${name}: stream ${stream}`,
        status: "fail",
        detail: "missing",
        fix: "provision the streams (the Helm charts' Job, or `tributary up` locally)",
      });
      return;
    }
    checks.push({
      name: `${name}: stream ${stream}`,
      status: "ok",
      detail: `${info.state.messages} messages, discard ${info.config.discard}, ${info.config.num_replicas} replica(s)`,
    });
    checks.push(
      ...(stream === HUB_STREAM ? hubSourceChecks(context, info) : await regionStreamChecks(jsm, name, info, opts)),
    );
  } finally {
    await nc.close();
  }
}

/** Checks a deployment's health and settings and says what to fix. */
export async function doctor(
  context: OperatorContext,
  opts: DoctorOptions = {},
): Promise<{ checks: Check[]; ok: boolean }> {
  const checks: Check[] = [];
  const nodeMajor = Number(process.versions.node.split(".")[0]);
  checks.push(
    nodeMajor >= MIN_NODE_MAJOR
      ? { name: "node version", status: "ok", detail: process.version }
      : {
          name: "node version",
          status: "fail",
          detail: process.version,
          fix: `use Node ${MIN_NODE_MAJOR} or newer (24 LTS; \`npm start\` brings it)`,
        },
  );
  await serverChecks(context, "hub", context.hub.url, "hub", HUB_STREAM, context.hubConfigFile, opts, checks);
  for (const [region, r] of Object.entries(context.regions)) {
    await serverChecks(
      context,
      `region ${region}`,
      r.url,
      region,
      regionalStreamName(region),
      r.configFile,
      opts,
      checks,
    );
  }
  try {
    const res = await fetch(`${context.aggregatorUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
    checks.push(
      res.ok
        ? { name: "warehouse (through the aggregator)", status: "ok", detail: `${context.aggregatorUrl} ready` }
        : {
            name: "warehouse (through the aggregator)",
            status: "fail",
            detail: `${context.aggregatorUrl}/readyz answered ${res.status}`,
            fix: "the warehouse is failing or the loader is not running: see the aggregator's log",
          },
    );
  } catch (err) {
    checks.push({
      name: "warehouse (through the aggregator)",
      status: "fail",
      detail: (err as Error).message,
      fix: `start the aggregator, or correct aggregatorUrl in the context`,
    });
  }
  if (context.deliveryUrl) await deliveryChecks(context, checks);
  return { checks, ok: checks.every((c) => c.status !== "fail") };
}

/** The delivery process, when the context names one: reachable, and each destination's breaker. */
async function deliveryChecks(context: OperatorContext, checks: Check[]): Promise<void> {
  let destinations;
  try {
    destinations = await destinationStatus(context);
  } catch (err) {
    checks.push({
      name: "delivery: reachable",
      status: "fail",
      detail: (err as Error).message,
      fix: "start the delivery process, or correct deliveryUrl (and deliveryToken) in the context",
    });
    return;
  }
  checks.push({
    name: "delivery: reachable",
    status: "ok",
    detail: `${context.deliveryUrl}, ${destinations.length} destination(s)`,
  });
  for (const d of destinations) {
    const backlog = d.pending === undefined ? "backlog unknown" : `${d.pending} pending`;
    checks.push(
      d.breakerState === "closed"
        ? { name: `delivery: ${d.name}`, status: "ok", detail: `breaker closed, ${backlog}, ${d.dlq} dead-lettered` }
        : {
            name: `delivery: ${d.name}`,
            status: "warn",
            detail: `breaker ${d.breakerState}: no requests while open, ${backlog} waiting in the hub stream`,
            fix: `the destination is failing: \`tributary destinations log ${d.name} --outcome retry\` shows its answers (deploy/prometheus/RUNBOOK.md#destination-down)`,
          },
    );
  }
}

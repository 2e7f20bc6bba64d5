import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts, startService, type Service } from "@tributary/processes";
import { appEntry, type LocalApp } from "./apps.js";
import type { NatsPart } from "./nats.js";
import { AGGREGATOR_DURABLE, DEFAULT_DELIVERY_PORT } from "./options.js";
import type { Plan, Started } from "./plan.js";
import { LOCAL_SOURCE_SCHEME } from "./signing.js";

/** Writes an app's config file (JSON). Passwords never go in it: they reach the app through env. */
function writeConfig(file: string, config: Record<string, unknown>, mode?: number): void {
  writeFileSync(file, JSON.stringify(config, null, 2), mode === undefined ? undefined : { mode });
}

/** Starts one app as its own process with its config file and its NATS password, and waits for `/readyz`. */
function startApp(
  plan: Plan,
  app: LocalApp,
  opts: { name: string; configFile: string; natsPassword: string; url: string; env?: Record<string, string> },
): Promise<Service> {
  return startService({
    name: opts.name,
    entry: appEntry(app),
    env: {
      ...plan.options.appEnv,
      TRIBUTARY_CONFIG: opts.configFile,
      TRIBUTARY_NATS_PASS: opts.natsPassword,
      // Every app that reads secret values from the control bucket opens them with this key.
      TRIBUTARY_SEALING_KEYS_FILE: plan.sealingKeysFile,
      ...opts.env,
    },
    readyUrl: `${opts.url}/readyz`,
    output: plan.output,
  });
}

/** A gateway per region (user `gateway-{region}`), given every node of its region; streams are provisioned already. */
export async function startGateways(
  plan: Plan,
  regions: Map<string, NatsPart>,
  started: Started,
): Promise<Map<string, { gateway: Service; gatewayUrl: string; gatewayOpsUrl: string }>> {
  const { options, credentials } = plan;
  const gateways = new Map<string, { gateway: Service; gatewayUrl: string; gatewayOpsUrl: string }>();
  for (const [i, region] of options.regions.entries()) {
    const configFile = join(plan.stateDir, `gateway-${region}.json`);
    const port = options.gatewayPorts[i]!;
    // /metrics and /v1/stats are on a port of their own, off the ingest port.
    const opsPort = options.gatewayOpsPorts?.[i] ?? (await freePorts(1))[0]!;
    writeConfig(configFile, {
      region,
      port,
      opsPort,
      logLevel: plan.logLevel,
      nats: { servers: regions.get(region)!.nodes.map((n) => n.url), user: credentials.gateways[region]!.user },
      stream: { manage: false },
      // Sources added through the management API reach this gateway through its region's mirror.
      control: { enabled: true },
      sources: {
        [options.source]: {
          scheme: { type: LOCAL_SOURCE_SCHEME },
          secrets: [{ id: "local", file: plan.secretFile }],
          // The load test sends batches too; a source takes them only when it says so.
          batch: true,
        },
      },
    });
    const gatewayUrl = `http://127.0.0.1:${port}`;
    const gateway = await startApp(plan, "gateway", {
      name: `gateway-${region}`,
      configFile,
      natsPassword: credentials.gateways[region]!.password,
      url: gatewayUrl,
    });
    started.add(() => gateway.stop());
    gateways.set(region, { gateway, gatewayUrl, gatewayOpsUrl: `http://127.0.0.1:${opsPort}` });
  }
  return gateways;
}

/** The aggregator, restartable: `service` is the running process (a new one after `restart()`). */
export interface AggregatorHandle {
  readonly service: Service;
  readonly url: string;
  restart(): Promise<Service>;
}

/** The aggregator (user `aggregator`) loading the hub stream into DuckDB under `stateDir`, with every hub node's URL. */
export async function startAggregator(plan: Plan, hubUrls: string[], started: Started): Promise<AggregatorHandle> {
  const { options, credentials } = plan;
  const configFile = join(plan.stateDir, "aggregator.json");
  writeConfig(configFile, {
    port: options.aggregatorPort,
    logLevel: plan.logLevel,
    warehouseUrl: `duckdb://${join(plan.stateDir, "tributary.duckdb")}`,
    nats: { servers: hubUrls, user: credentials.aggregator.user },
    manageStreams: false,
    stream: "EVENTS",
    durable: AGGREGATOR_DURABLE,
    // The local loop reads rows, stats and metrics without a token (`tributary rows`, `status`, curl,
    // a local Prometheus): local-development switches, never a production default.
    api: {
      anonymousLoopback: true,
      // The local admin token (printed by `npm start`): the management API's changes need one.
      tokens: [{ id: "local-admin", file: plan.apiTokenFile, sources: ["*"], scope: "admin" }],
    },
    // The secrets' last use shows in the API within seconds here (15 s by default).
    control: { enabled: true, allowPrivate: ["127.0.0.0/8", "::1/128"], lastUseEverySeconds: 2 },
    operatorLoopback: true,
    ...options.aggregatorOverrides,
    // Visitor hashes under a key of this state dir (a test's enrich overrides keep it).
    enrich: { hashKeyFile: plan.enrichHashKeyFile, ...(options.aggregatorOverrides?.enrich as object | undefined) },
  });
  const url = `http://127.0.0.1:${options.aggregatorPort}`;
  const start = () =>
    startApp(plan, "aggregator", {
      name: "aggregator",
      configFile,
      natsPassword: credentials.aggregator.password,
      url,
      env: { TRIBUTARY_CONTROL_NATS_PASS: credentials.control!.password },
    });
  let service = await start();
  started.add(() => service.stop());
  return {
    get service() {
      return service;
    },
    url,
    async restart() {
      await service.stop();
      service = await start();
      return service;
    },
  };
}

/** The delivery process (user `delivery`): the given destinations and the control bucket's subscriptions. */
export async function startDelivery(
  plan: Plan,
  hubUrls: string[],
  started: Started,
): Promise<{ service: Service; url: string }> {
  const { options, credentials, destinations } = plan;
  const configFile = join(plan.stateDir, "delivery.json");
  // It always runs: subscriptions made through the management API need it. Without destinations
  // of its own and no port asked for, any free port (test systems run side by side).
  const port = options.deliveryPort ?? (destinations.length > 0 ? DEFAULT_DELIVERY_PORT : (await freePorts(1))[0]!);
  writeConfig(
    configFile,
    {
      port,
      logLevel: plan.logLevel,
      nats: { servers: hubUrls, user: credentials.delivery!.user },
      manageStreams: false,
      // Local destinations are the developer's own receivers on this machine, which the delivery
      // address policy refuses unless listed: loopback only, nothing else private.
      allowPrivate: ["127.0.0.0/8", "::1/128"],
      // `tributary destinations` and a local Prometheus read stats, metrics and the DLQ without a
      // token: a local-development switch, never a production default.
      adminLoopback: true,
      // The subscriptions of the management API, watched (its user may manage any delivery consumer).
      control: { enabled: true },
      destinations,
    },
    0o600, // a destination's headers may carry a credential
  );
  const url = `http://127.0.0.1:${port}`;
  const service = await startApp(plan, "delivery", {
    name: "delivery",
    configFile,
    natsPassword: credentials.delivery!.password,
    url,
  });
  started.add(() => service.stop());
  return { service, url };
}

#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { renderProductionNatsConfigs } from "./render-nats.js";
import { curlExample, sendSamples } from "./send.js";
import { DEFAULT_TOPOLOGY, readSecret, secretFileOf, startTopology } from "./topology.js";

const USAGE = `tributary <command> [options]

  up                 start the local system: a hub and two regions (us, eu), each region's gateway,
                     and the aggregator loading the hub into DuckDB; Ctrl-C stops it
      --state-dir DIR   (default .tributary)
  send               send signed sample events to a local gateway
      --region us|eu (us)  --source ID (demo)  --type TYPE (link.clicked)  --count N (1)  --url URL
  rows               show the newest rows in the warehouse
      --limit N (5)  --url URL (the aggregator, http://127.0.0.1:8090)
  render-nats        write the production nats-server configs (hub, one per region)
      --out DIR (deploy/nats)  --regions us,eu
`;

function gatewayUrlOf(region: string): string {
  const i = DEFAULT_TOPOLOGY.regions.indexOf(region);
  if (i < 0) throw new Error(`unknown region ${JSON.stringify(region)}: use one of ${DEFAULT_TOPOLOGY.regions.join(", ")}`);
  return `http://127.0.0.1:${DEFAULT_TOPOLOGY.gatewayPorts[i]}`;
}

async function up(stateDir: string): Promise<void> {
  const options = { ...DEFAULT_TOPOLOGY, stateDir, output: "inherit" as const };
  console.log("starting the hub, the regions and their gateways, and the aggregator…");
  const topology = await startTopology(options);
  const regionLines = [...topology.regions.values()]
    .map((r) => `  region ${r.region}   gateway ${r.gatewayUrl}   NATS ${r.nats.url} (domain ${r.region}, stream EVENTS_${r.region.toUpperCase()})`)
    .join("\n");
  const us = topology.regions.get("us")!;
  console.log(`
Tributary is running:
${regionLines}
  hub         NATS ${topology.hub.url} (domain hub, stream EVENTS sourcing every region)
  aggregator  ${topology.aggregatorUrl}   (DuckDB: ${stateDir}/tributary.duckdb)

Send a signed event to region us (copy and paste into another terminal; use port ${DEFAULT_TOPOLOGY.gatewayPorts[1]} for eu):

${curlExample(us.gatewayUrl, options.source, topology.secretFile)}

  or: npm run tributary -- send --count 10 --region eu

See the rows that landed in DuckDB (an event sent to both regions is one row):

  curl -sS '${topology.aggregatorUrl}/v1/events?limit=5'
  or: npm run tributary -- rows

Press Ctrl-C to stop.
`);
  const stop = async () => {
    console.log("stopping…");
    await topology.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      "state-dir": { type: "string" },
      region: { type: "string" },
      source: { type: "string" },
      type: { type: "string" },
      count: { type: "string" },
      url: { type: "string" },
      limit: { type: "string" },
      out: { type: "string" },
      regions: { type: "string" },
    },
  });
  const stateDir = values["state-dir"] ?? DEFAULT_TOPOLOGY.stateDir;
  switch (command) {
    case "up":
      return up(stateDir);
    case "send": {
      const source = values.source ?? DEFAULT_TOPOLOGY.source;
      const results = await sendSamples({
        url: values.url ?? gatewayUrlOf(values.region ?? "us"),
        source,
        secret: readSecret(secretFileOf(stateDir, source)),
        type: values.type ?? "link.clicked",
        count: Number(values.count ?? 1),
      });
      for (const r of results) console.log(r.status, JSON.stringify(r.body));
      if (results.some((r) => r.status >= 300)) process.exitCode = 1;
      return;
    }
    case "rows": {
      const url = values.url ?? `http://127.0.0.1:${DEFAULT_TOPOLOGY.aggregatorPort}`;
      const res = await fetch(`${url}/v1/events?limit=${Number(values.limit ?? 5)}`);
      console.log(JSON.stringify(await res.json(), null, 2));
      return;
    }
    case "render-nats": {
      const out = values.out ?? "deploy/nats";
      mkdirSync(out, { recursive: true });
      for (const [name, text] of renderProductionNatsConfigs((values.regions ?? "us,eu").split(","))) {
        writeFileSync(join(out, name), text);
        console.log(`wrote ${join(out, name)}`);
      }
      return;
    }
    default:
      console.log(USAGE);
      if (command && command !== "help" && command !== "--help") process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(`tributary: ${(err as Error).message}`);
  process.exit(1);
});

#!/usr/bin/env node
import { parseArgs } from "node:util";
import { curlExample, sendSamples } from "./send.js";
import { DEFAULT_LOCAL, readSecret, secretFileOf, startLocal } from "./local.js";

const USAGE = `tributary <command> [options]

  up                 start the local system (nats-server, gateway, aggregator) and keep it running
      --state-dir DIR      (default .tributary)   --nats-port N (4222)
      --gateway-port N     (8080)                 --aggregator-port N (8090)
  send               send signed sample events to the local gateway
      --source ID (demo)  --type TYPE (link.clicked)  --count N (1)  --url URL
  rows               show the newest rows in the warehouse
      --limit N (5)  --url URL (the aggregator, http://127.0.0.1:8090)
`;

async function up(values: Record<string, string | undefined>): Promise<void> {
  const opts = {
    ...DEFAULT_LOCAL,
    stateDir: values["state-dir"] ?? DEFAULT_LOCAL.stateDir,
    natsPort: Number(values["nats-port"] ?? DEFAULT_LOCAL.natsPort),
    gatewayPort: Number(values["gateway-port"] ?? DEFAULT_LOCAL.gatewayPort),
    aggregatorPort: Number(values["aggregator-port"] ?? DEFAULT_LOCAL.aggregatorPort),
  };
  const system = await startLocal(opts);
  console.log(`
Tributary is running (region ${opts.region}):
  NATS        ${system.nats.url}   (JetStream domain ${opts.region}, stream EVENTS_${opts.region.toUpperCase()})
  gateway     ${system.gatewayUrl}
  aggregator  ${system.aggregatorUrl}   (DuckDB: ${opts.stateDir}/tributary.duckdb)

Send a signed event (copy and paste into another terminal):

${curlExample(system.gatewayUrl, opts.source, system.secretFile)}

  or: npm run tributary -- send --count 10

See the rows that landed in DuckDB:

  curl -sS '${system.aggregatorUrl}/v1/events?limit=5'
  or: npm run tributary -- rows

Press Ctrl-C to stop.
`);
  const stop = async () => {
    console.log("stopping…");
    await system.stop();
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
      "nats-port": { type: "string" },
      "gateway-port": { type: "string" },
      "aggregator-port": { type: "string" },
      source: { type: "string" },
      type: { type: "string" },
      count: { type: "string" },
      url: { type: "string" },
      limit: { type: "string" },
    },
  });
  switch (command) {
    case "up":
      return up(values);
    case "send": {
      const source = values.source ?? DEFAULT_LOCAL.source;
      const secret = readSecret(secretFileOf(values["state-dir"] ?? DEFAULT_LOCAL.stateDir, source));
      const results = await sendSamples({
        url: values.url ?? `http://127.0.0.1:${DEFAULT_LOCAL.gatewayPort}`,
        source,
        secret,
        type: values.type ?? "link.clicked",
        count: Number(values.count ?? 1),
      });
      for (const r of results) console.log(r.status, JSON.stringify(r.body));
      if (results.some((r) => r.status >= 300)) process.exitCode = 1;
      return;
    }
    case "rows": {
      const url = values.url ?? `http://127.0.0.1:${DEFAULT_LOCAL.aggregatorPort}`;
      const res = await fetch(`${url}/v1/events?limit=${Number(values.limit ?? 5)}`);
      console.log(JSON.stringify(await res.json(), null, 2));
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

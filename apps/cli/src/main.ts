#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { DEFAULT_TOPOLOGY } from "@tributary/local";
import { OperatorError } from "./ops/context.js";
import { registerLocal } from "./commands/local.js";
import { registerDoctor, registerOperating } from "./commands/operating.js";
import { registerDestinations } from "./commands/destinations.js";
import { registerManagement } from "./commands/management.js";

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
  .option("--api-url <url>", "the management API (default: TRIBUTARY_API_URL, else the context's apiUrl/aggregatorUrl)")
  .option("--api-token <token>", "its bearer token (default: TRIBUTARY_API_TOKEN, else the context's apiToken)")
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
  $ tributary rebuild rollups --since 2026-11-29T10:00:00Z  # analytics rollups recomputed from the rows
  $ tributary dlq list && tributary dlq replay 3 --body-file fixed.json
  $ tributary replay --region us --from-seq 1000 --to 2000
  $ tributary destinations && tributary destinations log crm --outcome dlq
  $ tributary doctor                              # versions, domains, leaf links, sync_interval, budgets
  $ tributary sources create shop --scheme standard-webhooks --secret-env SHOP_SECRET
  $ tributary config diff --file tributary.json && tributary config apply --file tributary.json
  $ tributary --context prod.json status --json   # a deployment, described by a context file (apps/cli/README.md)`,
  );

// In the order `--help` lists them: the local system, operating, destinations, doctor, management.
registerLocal(program);
registerOperating(program);
registerDestinations(program);
registerDoctor(program);
registerManagement(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2); // commander printed it
  const e = err as Error & { code?: string };
  console.error(`tributary: ${e.message}`);
  if (process.env.TRIBUTARY_DEBUG) console.error(e.stack);
  process.exit(err instanceof OperatorError && e.code === "bad_argument" ? 2 : 1);
});

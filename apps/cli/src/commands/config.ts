import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { cliOf, type Cli } from "../cli.js";
import { applyConfig } from "../ops/config-apply.js";
import { exportConfig } from "../ops/config-export.js";
import { readDesiredConfig } from "../ops/config-file.js";
import { planConfig, publicPlan } from "../ops/config-plan.js";
import { applyText, planText } from "../render/management.js";

/** `config`: sources and subscriptions as one declarative file: export, diff, apply. */
export function registerConfig(program: Command): void {
  const cli = cliOf(program);
  const config = program
    .command("config")
    .description(
      "sources and subscriptions as one JSON file: export them, diff a file against the API, apply it (idempotent)",
    );
  config
    .command("export")
    .description("every source and subscription as one document for `config apply`, without a secret value")
    .option("--out <file>", "write it here (default: print it)")
    .action(async (opts: { out?: string }) => {
      const doc = await exportConfig(cli.api());
      const text = `${JSON.stringify(doc, null, 2)}\n`;
      if (!opts.out) return void process.stdout.write(text);
      writeFileSync(opts.out, text);
      const counts = { sources: Object.keys(doc.sources).length, subscriptions: Object.keys(doc.subscriptions).length };
      cli.print(
        { file: opts.out, ...counts },
        () => `wrote ${counts.sources} sources and ${counts.subscriptions} subscriptions to ${opts.out}`,
      );
    });
  config
    .command("diff")
    .description("what `config apply` would change, per resource; exit 0 when nothing, 1 when something")
    .requiredOption("--file <file>", "the declarative file (sources and subscriptions)")
    .option("--prune", "also list what the API has and the file does not name, as deletions")
    .action((opts: { file: string; prune?: boolean }) => diff(cli, opts));
  config
    .command("apply")
    .description(
      "make the API match the file: create, update, add the secrets it names; a second apply changes nothing; secret values are never printed",
    )
    .requiredOption("--file <file>", "the declarative file (sources and subscriptions)")
    .option("--prune", "delete what the API has and the file does not name (of the kinds the file has)")
    .option("--secrets-dir <dir>", "write the secrets the server makes (new subscriptions' signing secrets) here, 0600")
    .action((opts: { file: string; prune?: boolean; secretsDir?: string }) => apply(cli, opts));
}

async function diff(cli: Cli, opts: { file: string; prune?: boolean }): Promise<void> {
  const desired = await readDesiredConfig(opts.file);
  const plan = await planConfig(cli.api(), desired, { prune: opts.prune ?? false });
  cli.print(publicPlan(plan), () => planText(plan, opts.file));
  if (plan.changes > 0) process.exitCode = 1;
}

async function apply(cli: Cli, opts: { file: string; prune?: boolean; secretsDir?: string }): Promise<void> {
  const api = cli.api();
  const desired = await readDesiredConfig(opts.file);
  const plan = await planConfig(api, desired, { prune: opts.prune ?? false });
  const result = await applyConfig(api.asApply(), plan, opts.secretsDir ? { secretsDir: opts.secretsDir } : {});
  for (const note of plan.notes) console.error(`note: ${note}`);
  for (const r of plan.resources) for (const note of r.notes) console.error(`note: ${r.kind}/${r.id}: ${note}`);
  cli.print(result, () => applyText(result));
  if (result.cannot.length > 0) process.exitCode = 1;
}

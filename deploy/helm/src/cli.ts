#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { enrichValuesSchema, withEnrichSchema, type JsonSchema } from "./enrich-schema.js";
import { helm, REPO_ROOT } from "./helm.js";
import { CHARTS, chartDir } from "./render.js";
import { withValuesTable } from "./values-doc.js";

const USAGE = `deploy-helm <command>
  readme        regenerate the values table of each chart's README from its values.yaml
  schema        regenerate aggregator.enrich in the hub chart's values.schema.json from the aggregator's schema
  helm ARGS…    run the project's helm (extracted to .tools/helm on first use)
`;

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case "readme":
      for (const chart of CHARTS) {
        const readme = join(chartDir(chart), "README.md");
        writeFileSync(
          readme,
          withValuesTable(readFileSync(readme, "utf8"), readFileSync(join(chartDir(chart), "values.yaml"), "utf8")),
        );
        console.log(`wrote ${readme}`);
      }
      return;
    case "schema": {
      // Dev tooling: the aggregator (a devDependency) and @tributary/enrich (reached through it), built.
      const { AggregatorConfigSchema } = (await import("@tributary/aggregator/config")) as {
        AggregatorConfigSchema: { properties: { enrich: unknown } };
      };
      const fromAggregator = createRequire(join(REPO_ROOT, "apps", "aggregator", "package.json"));
      const { UNIQUE_RULES } = (await import(pathToFileURL(fromAggregator.resolve("@tributary/enrich")).href)) as {
        UNIQUE_RULES: Record<string, unknown>;
      };
      const file = join(chartDir("tributary-hub"), "values.schema.json");
      const schema = withEnrichSchema(
        JSON.parse(readFileSync(file, "utf8")) as JsonSchema,
        enrichValuesSchema(AggregatorConfigSchema.properties.enrich, Object.keys(UNIQUE_RULES)),
      );
      writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
      console.log(`wrote ${file} (format it: npx prettier --write ${file})`);
      return;
    }
    case "helm": {
      const { stdout, stderr } = await helm(rest);
      process.stdout.write(stdout);
      process.stderr.write(stderr);
      return;
    }
    default:
      console.log(USAGE);
      if (command && command !== "help") process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(`deploy-helm: ${(err as Error).message}`);
  process.exit(1);
});

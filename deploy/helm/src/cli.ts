#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { helm } from "./helm.js";
import { CHARTS, chartDir } from "./render.js";
import { withValuesTable } from "./values-doc.js";

const USAGE = `deploy-helm <command>
  readme        regenerate the values table of each chart's README from its values.yaml
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

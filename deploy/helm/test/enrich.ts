import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * @tributary/enrich, whose rules and defaults the aggregator's enrich config names. This package
 * does not depend on it; the aggregator does, so it is reached through the aggregator's dependencies.
 */
export interface EnrichModule {
  UNIQUE_RULES: Record<string, unknown>;
  DEFAULT_SUSPICION_RULES: ReadonlyArray<Record<string, unknown>>;
  DEFAULT_SALT_ROTATION_SECONDS: number;
  bundledGeoDatabasePath(): string;
}

const fromAggregator = createRequire(fileURLToPath(new URL("../../../apps/aggregator/package.json", import.meta.url)));

export async function loadEnrich(): Promise<EnrichModule> {
  return (await import(pathToFileURL(fromAggregator.resolve("@tributary/enrich")).href)) as EnrichModule;
}

import { ConfigError } from "@tributary/config";
import { resolveApiTokens } from "@tributary/query-api";
import { runService } from "@tributary/runtime";
import { isEventQueries, openWarehouse } from "@tributary/warehouse";
import { buildApiApp } from "./app.js";
import { loadApiConfig } from "./config.js";

/**
 * The query API on its own, for ClickHouse deployments (DuckDB allows one process per file: there
 * the aggregator serves the API). It only reads: give it a read-only warehouse user.
 */
runService({
  name: "api",
  packageJson: new URL("../package.json", import.meta.url),
  loadConfig: (env, file) => {
    const config = loadApiConfig(env, file);
    return { config, tokens: resolveApiTokens(config.tokens, env) };
  },
  // Nothing to flush: what is in flight is a read.
  shutdownDeadlineMs: 10_000,
  start: async ({ config: { config, tokens } }) => {
    const sink = await openWarehouse(config.warehouseUrl);
    if (!isEventQueries(sink))
      throw new ConfigError("warehouseUrl", `the ${sink.kind} warehouse cannot serve queries`, "");
    const app = buildApiApp({
      warehouse: sink,
      tokens,
      rateLimit: config.rateLimit,
      logger: { level: config.logLevel },
    });
    await app.listen({ host: config.host, port: config.port });
    return {
      log: app.log,
      stop: [
        ["http", () => app.close()],
        ["warehouse", () => sink.close()],
      ],
    };
  },
});

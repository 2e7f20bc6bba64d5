import Fastify from "fastify";
import { configFileFrom, isConfigError } from "@tributary/config";
import { isEventQueries, openWarehouse } from "@tributary/warehouse";
import { registerQueryApi, resolveApiTokens, type ApiToken } from "@tributary/query-api";
import { loadApiConfig } from "./config.js";

/**
 * The query API on its own, for ClickHouse deployments (DuckDB allows one process per file: there
 * the aggregator serves the API). It only reads: give it a read-only warehouse user.
 */
async function main(): Promise<void> {
  let config;
  let tokens: ApiToken[];
  try {
    config = loadApiConfig(process.env, configFileFrom(process.argv, process.env));
    tokens = resolveApiTokens(config.tokens, process.env);
  } catch (err) {
    if (isConfigError(err)) {
      console.error(`tributary-api: ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const sink = await openWarehouse(config.warehouseUrl);
  if (!isEventQueries(sink)) {
    console.error(`tributary-api: config warehouseUrl: the ${sink.kind} warehouse cannot serve queries`);
    process.exit(78);
  }
  const app = Fastify({ logger: { level: config.logLevel } });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await sink.health();
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "not_ready" });
    }
  });
  await registerQueryApi(app, { queries: sink, tokens, rateLimit: config.rateLimit });
  await app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    setTimeout(() => process.exit(1), 10_000).unref();
    await app.close();
    await sink.close();
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("tributary-api: failed to start", err);
  process.exit(1);
});

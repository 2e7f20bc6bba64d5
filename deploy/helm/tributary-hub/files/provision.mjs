// Creates or updates the streams described by the JSON files in STREAMS_DIR, then the durable
// consumers described by its `*.consumer.json` files (JetStream's consumer create request:
// {stream_name, config}, optionally with `update`: the config keys applied to an existing consumer
// instead of the whole config, and `create: false`: leave a missing consumer to its own process),
// as the NATS admin user (the apps' own users cannot manage streams). A consumer comes after the
// streams, as it lives on one. Runs in the app image as a Job per release revision; the JSON is
// rendered by the chart to match packages/streams (a test keeps them equal). The NATS client comes
// from the app's own node_modules (APP_DIR), so the Job needs no other image. A tls:// NATS_URL
// makes it refuse a server without TLS (the CA comes through NODE_EXTRA_CA_CERTS).
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = process.env;
const appDir = env.APP_DIR ?? "/app";
const streamsDir = env.STREAMS_DIR ?? "/etc/tributary/streams";
const deadline = Date.now() + Number(env.PROVISION_TIMEOUT_MS ?? 120_000);
const require = createRequire(join(appDir, "package.json"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const { connect } = await load("@nats-io/transport-node");
const { jetstreamManager, JetStreamApiError } = await load("@nats-io/jetstream");

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** Whether `info` finds the stream or consumer; false on `notFound`, any other error thrown. */
async function found(info, notFound) {
  try {
    await info();
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === notFound) return false;
    throw err;
  }
}

async function connectWithRetry() {
  for (;;) {
    try {
      const servers = env.NATS_URL.split(",");
      return await connect({
        servers,
        user: "admin",
        pass: env.ADMIN_PASSWORD,
        name: "tributary-provision",
        ...(servers.some((s) => s.startsWith("tls://")) ? { tls: {} } : {}),
      });
    } catch (err) {
      // NATS starts with the release: wait for it rather than fail the hook at once.
      if (Date.now() > deadline) throw err;
      console.log(`waiting for NATS at ${env.NATS_URL}: ${err.message}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

const nc = await connectWithRetry();
try {
  const jsm = await jetstreamManager(nc);
  const files = readdirSync(streamsDir)
    .filter((f) => f.endsWith(".json"))
    .sort();
  const read = (file) => JSON.parse(readFileSync(join(streamsDir, file), "utf8"));
  for (const file of files.filter((f) => !f.endsWith(".consumer.json"))) {
    const config = read(file);
    const exists = await found(() => jsm.streams.info(config.name), STREAM_NOT_FOUND);
    if (exists) await jsm.streams.update(config.name, config);
    else await jsm.streams.add(config);
    console.log(`${exists ? "updated" : "created"} stream ${config.name}`);
  }
  for (const file of files.filter((f) => f.endsWith(".consumer.json"))) {
    const { stream_name: stream, config, update, create = true } = read(file);
    const exists = await found(() => jsm.consumers.info(stream, config.durable_name), CONSUMER_NOT_FOUND);
    if (!exists && !create) {
      console.log(`left consumer ${config.durable_name} on ${stream} to its process`);
      continue;
    }
    // An update sends the whole config, or the keys `update` lists (an absent one is cleared):
    // nats-server applies what may change on a live consumer and refuses the rest, which fails the
    // Job with its reason.
    const changes = update ? Object.fromEntries(update.map((key) => [key, config[key]])) : config;
    if (exists) await jsm.consumers.update(stream, config.durable_name, changes);
    else await jsm.consumers.add(stream, config);
    console.log(`${exists ? "updated" : "created"} consumer ${config.durable_name} on ${stream}`);
  }
} finally {
  await nc.close();
}

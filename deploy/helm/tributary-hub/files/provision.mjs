// Creates or updates the streams described by the JSON files in STREAMS_DIR, as the NATS admin
// user (the apps' own users cannot manage streams). Runs in the app image as a Job per release revision; the
// JSON is rendered by the chart to match packages/streams (a test keeps them equal). The NATS
// client comes from the app's own node_modules (APP_DIR), so the Job needs no other image.
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

async function connectWithRetry() {
  for (;;) {
    try {
      return await connect({ servers: env.NATS_URL.split(","), user: "admin", pass: env.ADMIN_PASSWORD, name: "tributary-provision" });
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
  for (const file of readdirSync(streamsDir).filter((f) => f.endsWith(".json")).sort()) {
    const config = JSON.parse(readFileSync(join(streamsDir, file), "utf8"));
    let exists = true;
    try {
      await jsm.streams.info(config.name);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND)) throw err;
      exists = false;
    }
    if (exists) await jsm.streams.update(config.name, config);
    else await jsm.streams.add(config);
    console.log(`${exists ? "updated" : "created"} stream ${config.name}`);
  }
} finally {
  await nc.close();
}

import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_PAYLOAD_BYTES } from "@tributary/streams";
import { findNatsServer, testCertificates } from "@tributary/testkit";
import { passwordVar, renderProductionNatsConfigs } from "../src/index.js";

const run = promisify(execFile);
const DEPLOY_NATS = fileURLToPath(new URL("../../../deploy/nats/", import.meta.url));

describe("deploy/nats configs", () => {
  const files = renderProductionNatsConfigs(["us", "eu"]);
  /** The certificates where the servers read them (`--tls-dir`): made by the test with openssl. */
  let tlsDir: string;
  beforeAll(async () => {
    tlsDir = mkdtempSync(join(tmpdir(), "nats-render-tls-"));
    const certs = await testCertificates(tlsDir);
    copyFileSync(certs.certFile, join(tlsDir, "tls.crt"));
    copyFileSync(certs.keyFile, join(tlsDir, "tls.key"));
    copyFileSync(certs.caFile, join(tlsDir, "hub-ca.crt"));
  });
  afterAll(() => rmSync(tlsDir, { recursive: true, force: true }));

  /** `nats-server -t` of each config, with the test's certificates and every password set. */
  async function check(configs: Map<string, string>, users: readonly string[]): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, HUB_LEAFNODE_URL: "tls://leaf-us:x@127.0.0.1:7422" };
    for (const user of users) env[passwordVar(user)] = "secret";
    const dir = mkdtempSync(join(tmpdir(), "nats-render-"));
    try {
      for (const [name, text] of configs) {
        writeFileSync(join(dir, name), text);
        const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", join(dir, name)], { env });
        expect(`${stdout}${stderr}`, name).toMatch(/is valid/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("render - deploy/nats holds exactly what the code renders (run `npm run tributary -- render-nats` after changing it)", () => {
    for (const [name, text] of files) expect(readFileSync(join(DEPLOY_NATS, name), "utf8")).toBe(text);
  });

  it("H2 - every production config runs TLS on its client port and on the leafnode link, and the real nats-server accepts each with the test's certificates", async () => {
    for (const [name, text] of files) {
      expect(text.slice(0, text.indexOf("jetstream {")), name).toContain('tls {\n  cert_file: "/etc/nats/tls/tls.crt"');
      const leafnodes = text.slice(text.indexOf("leafnodes {"));
      expect(leafnodes, name).toContain(
        name === "hub.conf" ? '  tls {\n    cert_file: "/etc/nats/tls/tls.crt"' : 'ca_file: "/etc/nats/tls/hub-ca.crt"',
      );
    }
    await check(renderProductionNatsConfigs(["us", "eu"], [], tlsDir), [
      "admin",
      "aggregator",
      "gateway-us",
      "gateway-eu",
      "leaf-us",
      "leaf-eu",
    ]);
  });

  it("M12 - every production config takes the largest message the topology sends (max_payload)", () => {
    for (const [name, text] of files) expect(text, name).toContain(`\nmax_payload: ${MAX_PAYLOAD_BYTES}\n`);
  });

  it("render - with destinations the hub has a delivery user limited to them, its consumers pinned to their filters, and nats-server accepts it", async () => {
    const hub = renderProductionNatsConfigs(
      ["us"],
      ["crm", { name: "slack", sources: ["demo"], types: ["link.clicked"] }],
      tlsDir,
    ).get("hub.conf")!;
    expect(hub).toContain('{ user: "delivery", password: $DELIVERY_PASSWORD, allowed_connection_types: ["STANDARD"]');
    expect(hub).toContain('"$JS.API.CONSUMER.MSG.NEXT.EVENTS_ENRICHED.delivery-crm"');
    expect(hub).toContain('"$JS.API.CONSUMER.CREATE.EVENTS_ENRICHED.delivery-slack.events.*.demo.link.clicked"');
    expect(hub).toContain('"delivery-dlq.slack"');
    expect(hub).toContain('subscribe: { allow: ["_INBOX_delivery.>"] }');
    expect(hub).not.toContain("delivery-other");
    expect(files.get("hub.conf")).not.toContain("DELIVERY_PASSWORD");
    await check(new Map([["hub.conf", hub]]), ["admin", "aggregator", "delivery", "leaf-us"]);
  });

  it("render - production regions fsync every write and keep no secret in the file", () => {
    for (const [name, text] of files) {
      expect(text).toContain("sync_interval: always");
      expect(text).not.toMatch(/password: "/);
      if (name.startsWith("region-")) expect(text).toContain("url: $HUB_LEAFNODE_URL");
    }
  });
});

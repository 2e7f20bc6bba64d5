import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findNatsServer } from "@tributary/testkit";
import { passwordVar, renderProductionNatsConfigs } from "../src/index.js";

const run = promisify(execFile);
const DEPLOY_NATS = fileURLToPath(new URL("../../../deploy/nats/", import.meta.url));

describe("deploy/nats configs", () => {
  const files = renderProductionNatsConfigs(["us", "eu"]);

  it("render - deploy/nats holds exactly what the code renders (run `npm run tributary -- render-nats` after changing it)", () => {
    for (const [name, text] of files) expect(readFileSync(join(DEPLOY_NATS, name), "utf8")).toBe(text);
  });

  it("render - the real nats-server accepts every file (`nats-server -t`)", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HUB_LEAFNODE_URL: "nats-leaf://leaf-us:x@127.0.0.1:7422" };
    for (const user of ["admin", "aggregator", "gateway-us", "gateway-eu", "leaf-us", "leaf-eu"])
      env[passwordVar(user)] = "secret";
    const dir = mkdtempSync(join(tmpdir(), "nats-render-"));
    try {
      for (const [name, text] of files) {
        writeFileSync(join(dir, name), text);
        const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", join(dir, name)], { env });
        expect(`${stdout}${stderr}`).toMatch(/is valid/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("render - with destinations the hub has a delivery user limited to them, and nats-server accepts it", async () => {
    const hub = renderProductionNatsConfigs(["us"], ["crm", "slack"]).get("hub.conf")!;
    expect(hub).toContain('{ user: "delivery", password: $DELIVERY_PASSWORD, allowed_connection_types: ["STANDARD"]');
    expect(hub).toContain('"$JS.API.CONSUMER.MSG.NEXT.EVENTS.delivery-crm"');
    expect(hub).toContain('"delivery-dlq.slack"');
    expect(hub).not.toContain("delivery-other");
    expect(files.get("hub.conf")).not.toContain("DELIVERY_PASSWORD");
    const dir = mkdtempSync(join(tmpdir(), "nats-render-"));
    try {
      writeFileSync(join(dir, "hub.conf"), hub);
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const user of ["admin", "aggregator", "delivery", "leaf-us"]) env[passwordVar(user)] = "secret";
      const { stdout, stderr } = await run(findNatsServer(), ["-t", "-c", join(dir, "hub.conf")], { env });
      expect(`${stdout}${stderr}`).toMatch(/is valid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("render - production regions fsync every write and keep no secret in the file", () => {
    for (const [name, text] of files) {
      expect(text).toContain("sync_interval: always");
      expect(text).not.toMatch(/password: "/);
      if (name.startsWith("region-")) expect(text).toContain("url: $HUB_LEAFNODE_URL");
    }
  });
});

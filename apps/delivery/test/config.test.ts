import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDeliveryConfig } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "tributary-delivery-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = "whsec_" + Buffer.from("delivery-config-secret-0000001").toString("base64");
let n = 0;
function file(config: unknown): string {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}
const dest = (extra: Record<string, unknown> = {}) => ({
  name: "crm",
  url: "https://crm.example/hooks",
  signing: { secrets: [{ id: "k", env: "CRM_SECRET" }] },
  ...extra,
});

describe("delivery config - loading", () => {
  it("applies defaults and decodes signing secrets", () => {
    const loaded = loadDeliveryConfig({ CRM_SECRET: SECRET }, file({ destinations: [dest()] }));
    expect(loaded.config.destinations[0]).toMatchObject({
      name: "crm",
      sources: [],
      types: [],
      timeoutMs: 10_000,
      retry: { maxAttempts: 8 },
      breaker: { failuresToOpen: 5 },
      signing: { type: "standard-webhooks" },
      start: "new",
    });
    expect(loaded.signingKeys.get("crm")).toHaveLength(1);
  });

  it("M10 - the app's allowPrivate is added to every destination's own, and nothing private is allowed by default", () => {
    const loaded = loadDeliveryConfig(
      { CRM_SECRET: SECRET },
      file({
        allowPrivate: ["127.0.0.0/8"],
        destinations: [dest(), dest({ name: "erp", allowPrivate: ["10.20.0.0/16", "127.0.0.0/8"] })],
      }),
    );
    expect(loaded.config.destinations.map((d) => d.allowPrivate)).toEqual([
      ["127.0.0.0/8"],
      ["127.0.0.0/8", "10.20.0.0/16"],
    ]);
    const plain = loadDeliveryConfig({ CRM_SECRET: SECRET }, file({ destinations: [dest()] }));
    expect(plain.config.destinations[0]!.allowPrivate).toEqual([]);
  });

  it("errors name the field and the fix", () => {
    expect(() => loadDeliveryConfig({}, file({ destinations: [dest()] }))).toThrow(
      "config destinations[0].signing.secrets[0].env: environment variable CRM_SECRET is not set — export CRM_SECRET=whsec_…",
    );
    expect(() => loadDeliveryConfig({ CRM_SECRET: "plain" }, file({ destinations: [dest()] }))).toThrow(
      /destinations\[0\]\.signing\.secrets\[0\].*whsec_/,
    );
    expect(() => loadDeliveryConfig({ CRM_SECRET: SECRET }, file({ destinations: [dest(), dest()] }))).toThrow(
      /destinations\[1\]\.name: duplicate destination crm/,
    );
    expect(() =>
      loadDeliveryConfig({}, file({ destinations: [dest({ signing: { type: "none" }, url: "ftp://x" })] })),
    ).toThrow(/destinations\[0\]\.url/);
    expect(() =>
      loadDeliveryConfig({}, file({ destinations: [dest({ signing: { type: "none" }, name: "Bad Name" })] })),
    ).toThrow(/destinations\[0\]\.name/);
    expect(() => loadDeliveryConfig({}, file({ destinations: [dest({ signing: {} })] }))).toThrow(
      /destinations\[0\]\.signing\.secrets: is empty/,
    );
    expect(() =>
      loadDeliveryConfig(
        {},
        file({ ackWaitMs: 10_000, destinations: [dest({ signing: { type: "none" }, timeoutMs: 6_000 })] }),
      ),
    ).toThrow(/destinations\[0\]\.timeoutMs/);
    expect(() =>
      loadDeliveryConfig({}, file({ destinations: [dest({ signing: { type: "none" }, retries: 3 })] })),
    ).toThrow(/destinations\[0\]\.retries: is not a known setting/);
    // Token-less loopback access is for a developer's machine: never beyond loopback.
    expect(() =>
      loadDeliveryConfig(
        { TRIBUTARY_HOST: "0.0.0.0" },
        file({ adminLoopback: true, destinations: [dest({ signing: { type: "none" } })] }),
      ),
    ).toThrow(/adminLoopback: is on while the delivery process listens on 0\.0\.0\.0/);
  });

  it("secretHeaders: a credential header's value comes from env or a file, never the config file; errors name the header", () => {
    const keyFile = join(dir, "crm-api-key");
    writeFileSync(keyFile, "key-from-file\n");
    const loaded = loadDeliveryConfig(
      { CRM_AUTH: "Bearer sk_from_env" },
      file({
        destinations: [
          dest({
            signing: { type: "none" },
            headers: { "x-team": "growth" },
            secretHeaders: { authorization: { env: "CRM_AUTH" }, "x-api-key": { file: keyFile } },
          }),
        ],
      }),
    );
    expect(loaded.config.destinations[0]!.headers).toEqual({
      "x-team": "growth",
      authorization: "Bearer sk_from_env",
      "x-api-key": "key-from-file",
    });
    expect(() =>
      loadDeliveryConfig(
        {},
        file({
          destinations: [dest({ signing: { type: "none" }, secretHeaders: { authorization: { env: "CRM_AUTH" } } })],
        }),
      ),
    ).toThrow(
      "config destinations[0].secretHeaders.authorization.env: environment variable CRM_AUTH is not set — export CRM_AUTH=<the header's value>",
    );
    expect(() =>
      loadDeliveryConfig(
        { A: "x" },
        file({
          destinations: [
            dest({
              signing: { type: "none" },
              headers: { Authorization: "y" },
              secretHeaders: { authorization: { env: "A" } },
            }),
          ],
        }),
      ),
    ).toThrow(/secretHeaders\.authorization: is also in headers/);
    expect(() =>
      loadDeliveryConfig(
        {},
        file({ destinations: [dest({ signing: { type: "none" }, secretHeaders: { "bad header": { env: "A" } } })] }),
      ),
    ).toThrow(/secretHeaders/);
  });

  it("env overrides the file; the admin token comes from the env it names", () => {
    const loaded = loadDeliveryConfig(
      { TRIBUTARY_PORT: "9999", ADMIN: "t0ken-0123456789ab" },
      file({ adminToken: { env: "ADMIN" } }),
    );
    expect(loaded.config.port).toBe(9999);
    expect(loaded.adminToken).toBe("t0ken-0123456789ab");
    expect(() => loadDeliveryConfig({}, file({ adminToken: { env: "ADMIN" } }))).toThrow(/adminToken\.env/);
  });
});

import { execFileSync } from "node:child_process";
import * as processes from "@tributary/processes";
import { describe, expect, it } from "vitest";
import * as testkit from "../src/index.js";

describe("testkit", () => {
  it("re-exports - the process supervision is @tributary/processes' own (one set of tracked children)", () => {
    for (const name of [
      "startNatsServer",
      "startNatsCluster",
      "startService",
      "startTcpProxy",
      "startClickHouse",
      "freePorts",
      "findNatsServer",
      "track",
      "waitFor",
    ] as const) {
      expect(testkit[name], name).toBe(processes[name]);
    }
  });

  it("signWebhook - the signature is what openssl computes over `${timestamp}.${body}`", () => {
    const body = testkit.sampleEvent({ seed: "openssl" });
    const headers = testkit.signWebhook({
      secret: "s3cret-for-a-test",
      body,
      timestamp: 1_772_634_728,
      deliveryId: "e1",
    });
    const openssl = execFileSync("openssl", ["dgst", "-sha256", "-hmac", "s3cret-for-a-test"], {
      input: `1772634728.${body}`,
      encoding: "utf8",
    });
    expect(openssl.trim().split(" ").at(-1)).toBe(headers["x-webhook-signature"]);
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "x-webhook-timestamp": "1772634728",
      "x-webhook-id": "e1",
    });
  });
});

import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { sign as signGitHub } from "@octokit/webhooks-methods";
import { sampleEvent } from "@tributary/testkit";
import { startGateway, type GatewayUnderTest } from "./helpers.js";

// Secrets as each provider shows them; the requests are signed by the providers' own libraries.
const STANDARD_SECRET = `whsec_${Buffer.from("standard-webhooks-secret-32-bytes!").toString("base64")}`;
const STRIPE_SECRET = "whsec_stripe_test_secret_0123456789";
const GITHUB_SECRET = "github-webhook-secret-0123456789";

describe("gateway with provider schemes", () => {
  let gw: GatewayUnderTest;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-providers-"));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    gw = await startGateway({
      sources: {
        standard: {
          scheme: { type: "standard-webhooks" },
          secrets: [{ id: "s1", file: file("standard", STANDARD_SECRET) }],
        },
        stripe: { scheme: { type: "stripe" }, secrets: [{ id: "s1", file: file("stripe", STRIPE_SECRET) }] },
        github: { scheme: { type: "github" }, secrets: [{ id: "s1", file: file("github", GITHUB_SECRET) }] },
      },
    });
  });
  afterAll(async () => {
    await gw?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(source: string, body: string, headers: Record<string, string>) {
    const res = await fetch(`${gw.url}/v1/sources/${source}/events`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return { status: res.status, json: (await res.json()) as { event_key?: string; error?: { code: string } } };
  }

  it("providers - Standard Webhooks: signed by the standardwebhooks library, keyed by webhook-id; a flipped byte is refused", async () => {
    const body = sampleEvent();
    const id = "msg_2Lq8cUbNNbYXrGfq7sCPjA1rBOz";
    const signature = new Webhook(STANDARD_SECRET).sign(id, new Date(), body);
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": signature,
    };
    const ok = await post("standard", body, headers);
    expect(ok.status).toBe(202);
    expect(ok.json.event_key).toBe(`standard:${id}`);
    expect((await post("standard", body.replace("ios", "web"), headers)).json.error?.code).toBe("signature_mismatch");
    expect((await post("standard", body, { ...headers, "webhook-id": `${id}x` })).json.error?.code).toBe(
      "signature_mismatch",
    );
  });

  it("providers - Stripe: the test header from the stripe library verifies, and the body's id is the event key", async () => {
    const body = JSON.stringify({
      id: "evt_1QxYz",
      object: "event",
      type: "charge.succeeded",
      created: Math.floor(Date.now() / 1000),
      data: { object: { amount: 42 } },
    });
    const header = new Stripe("sk_test_unused").webhooks.generateTestHeaderString({
      payload: body,
      secret: STRIPE_SECRET,
    });
    const ok = await post("stripe", body, { "stripe-signature": header });
    expect(ok.status).toBe(202);
    expect(ok.json.event_key).toBe("stripe:evt_1QxYz");
    const stale = new Stripe("sk_test_unused").webhooks.generateTestHeaderString({
      payload: body,
      secret: STRIPE_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect((await post("stripe", body, { "stripe-signature": stale })).json.error?.code).toBe(
      "timestamp_out_of_tolerance",
    );
  });

  it("providers - GitHub: X-Hub-Signature-256 from @octokit/webhooks-methods, keyed by the body (X-GitHub-Delivery is unsigned), typed by X-GitHub-Event", async () => {
    // GitHub's body has no event type: it comes in X-GitHub-Event.
    const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "octo/hello" } });
    const signature = await signGitHub(GITHUB_SECRET, body);
    const ok = await post("github", body, {
      "x-hub-signature-256": signature,
      "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      "x-github-event": "push",
    });
    expect(ok.status).toBe(202);
    const stored = await (
      await import("@nats-io/jetstream")
    )
      .jetstreamManager(gw.observer)
      .then((jsm) => jsm.streams.getMessage("EVENTS_US", { seq: (ok.json as { seq?: number }).seq! }));
    expect(stored?.subject).toBe("events.us.github.push");
    expect(ok.json.event_key).toBe(`github:sha256:${createHash("sha256").update(body).digest("hex")}`);
    expect((await post("github", body, { "x-hub-signature-256": "sha256=" + "0".repeat(64) })).json.error?.code).toBe(
      "signature_mismatch",
    );
  });
});

import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { sign as signGitHub } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { startGateway, type GatewayUnderTest } from "./helpers.js";

// Secrets as each provider shows them; every request is signed by the provider's own code.
const GITHUB_SECRET = "github-webhook-secret-0123456789";
const SHOPIFY_SECRET = "shpss_shopify-client-secret-0123456789";
const STRIPE_SECRET = "whsec_stripe_test_secret_0123456789";
const STANDARD_SECRET = `whsec_${Buffer.from("standard-webhooks-secret-32-bytes!").toString("base64")}`;
const DEEPLINK_SECRET = "deep-link-platform-secret-0123456789";

/**
 * Shopify's HMAC: base64 HMAC-SHA256 of the raw body with the app's client secret as typed. Its
 * library (`createSHA256HMAC` in @shopify/shopify-api) is exactly this; written with node:crypto
 * here, apart from the verifier.
 */
const shopifyHmac = (body: string) => createHmac("sha256", SHOPIFY_SECRET).update(body).digest("base64");

const now = () => Math.floor(Date.now() / 1000);

describe("replays with a fresh unsigned id, against a real gateway and nats-server", () => {
  let gw: GatewayUnderTest;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-replay-"));
    const secret = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return [{ id: "s1", file: join(dir, name) }];
    };
    gw = await startGateway({
      sources: {
        github: { scheme: { type: "github" }, secrets: secret("github", GITHUB_SECRET) },
        shopify: { scheme: { type: "shopify" }, secrets: secret("shopify", SHOPIFY_SECRET) },
        stripe: { scheme: { type: "stripe" }, secrets: secret("stripe", STRIPE_SECRET) },
        standard: { scheme: { type: "standard-webhooks" }, secrets: secret("standard", STANDARD_SECRET) },
        deeplink: { scheme: { type: "webhook-hmac-sha256" }, secrets: secret("deeplink", DEEPLINK_SECRET) },
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
    return { status: res.status, json: (await res.json()) as Record<string, any> };
  }

  /** Sends each request in turn; returns the answers and how many messages the stream gained. */
  async function sendAll(source: string, requests: Array<[string, Record<string, string>]>) {
    const before = await gw.streamMessages();
    const answers = [];
    for (const [body, headers] of requests) answers.push(await post(source, body, headers));
    return { answers, stored: (await gw.streamMessages()) - before };
  }

  const summary = (answers: Array<{ status: number; json: Record<string, any> }>) =>
    answers.map((a) => `${a.status} ${a.json.status ?? a.json.error?.code}`);

  it("H3 - github: a replay under a fresh X-GitHub-Delivery is 200 duplicate with one stored event; a redelivery is a duplicate; two events are two", async () => {
    const push = JSON.stringify({ ref: "refs/heads/main", after: "a1b2c3", repository: { full_name: "octo/hello" } });
    const other = JSON.stringify({ ref: "refs/heads/main", after: "d4e5f6", repository: { full_name: "octo/hello" } });
    const headers = async (body: string, delivery: string) => ({
      "x-hub-signature-256": await signGitHub(GITHUB_SECRET, body),
      "x-github-delivery": delivery,
      "x-github-event": "push",
    });
    const { answers, stored } = await sendAll("github", [
      [push, await headers(push, "72d3162e-cc78-11e3-81ab-4c9367dc0958")],
      [push, await headers(push, "replayed-0000-0000-0000-000000000001")], // the replay, a fresh id
      [push, await headers(push, "72d3162e-cc78-11e3-81ab-4c9367dc0958")], // GitHub's redelivery
      [other, await headers(other, "9a0b1c2d-cc78-11e3-81ab-4c9367dc0958")], // another event
    ]);
    expect(summary(answers)).toEqual(["202 accepted", "200 duplicate", "200 duplicate", "202 accepted"]);
    expect(answers[1]!.json.event_key).toBe(answers[0]!.json.event_key);
    expect(answers[3]!.json.event_key).not.toBe(answers[0]!.json.event_key);
    expect(stored).toBe(2);
  });

  it("H3 - github: a replay relabelled by the unsigned X-GitHub-Event makes no new event; the first type stays", async () => {
    const body = JSON.stringify({ action: "opened", issue: { number: 7 }, repository: { full_name: "octo/hello" } });
    const signature = await signGitHub(GITHUB_SECRET, body);
    const { answers, stored } = await sendAll("github", [
      [body, { "x-hub-signature-256": signature, "x-github-delivery": "d-1", "x-github-event": "issues" }],
      [body, { "x-hub-signature-256": signature, "x-github-delivery": "d-2", "x-github-event": "deployment" }],
    ]);
    expect(summary(answers)).toEqual(["202 accepted", "200 duplicate"]);
    expect(stored).toBe(1);
    const msg = await (
      await jetstreamManager(gw.observer)
    ).streams.getMessage("EVENTS_US", { seq: answers[0]!.json.seq });
    expect(msg?.subject).toBe("events.us.github.issues");
  });

  it("H3 - shopify: a replay under a fresh X-Shopify-Webhook-Id or X-Shopify-Topic is 200 duplicate with one stored event; Shopify's retry is a duplicate; two events are two", async () => {
    const order = JSON.stringify({ id: 450789469, email: "jon@example.com", total_price: "199.00" });
    const updated = JSON.stringify({ id: 450789469, email: "jon@example.com", total_price: "149.00" });
    const headers = (body: string, webhookId: string, topic = "orders/create") => ({
      "x-shopify-hmac-sha256": shopifyHmac(body),
      "x-shopify-webhook-id": webhookId,
      "x-shopify-topic": topic,
    });
    const { answers, stored } = await sendAll("shopify", [
      [order, headers(order, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")],
      [order, headers(order, "replayed-bdd9-4b37-8a5f-000000000001")],
      [order, headers(order, "replayed-bdd9-4b37-8a5f-000000000002", "orders/cancelled")],
      [order, headers(order, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")], // Shopify's retry
      [updated, headers(updated, "c65668f5-bdd9-4b37-8a5f-bf7d70bcd043", "orders/updated")], // same order, another event
    ]);
    expect(summary(answers)).toEqual([
      "202 accepted",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "202 accepted",
    ]);
    expect(stored).toBe(2);
  });

  it("M1 - webhook-hmac-sha256: a replay with a new x-webhook-id inside the tolerance is 200 duplicate with one stored event; a sender's retry (re-signed later) is a duplicate; two events are two", async () => {
    const click = sampleEvent({ seed: "replay-click" });
    const open = sampleEvent({ type: "link.opened", seed: "replay-open" });
    const signed = signWebhook({ secret: DEEPLINK_SECRET, body: click, deliveryId: "dlv_original" });
    const { answers, stored } = await sendAll("deeplink", [
      [click, signed],
      [click, { ...signed, "x-webhook-id": "dlv_replayed_1" }], // the captured request, a fresh id
      [click, { ...signed, "x-webhook-id": "dlv_replayed_2" }],
      [click, signWebhook({ secret: DEEPLINK_SECRET, body: click, timestamp: now() + 5, deliveryId: "dlv_original" })],
      [open, signWebhook({ secret: DEEPLINK_SECRET, body: open, deliveryId: "dlv_other" })],
    ]);
    expect(summary(answers)).toEqual([
      "202 accepted",
      "200 duplicate",
      "200 duplicate",
      "200 duplicate",
      "202 accepted",
    ]);
    expect(answers[0]!.json.event_key).toBe("deeplink:replay-click"); // the body's own event_id
    expect(stored).toBe(2);
  });

  it("replay - stripe: the same signed request again, and Stripe's retry (a new t=), are duplicates of the body's id; two events are two", async () => {
    const event = (id: string) =>
      JSON.stringify({
        id,
        object: "event",
        type: "charge.succeeded",
        created: now(),
        data: { object: { amount: 42 } },
      });
    const first = event("evt_replay_1");
    const second = event("evt_replay_2");
    const header = (payload: string, timestamp = now()) =>
      new Stripe("sk_test_unused").webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET, timestamp });
    const signed = header(first);
    const { answers, stored } = await sendAll("stripe", [
      [first, { "stripe-signature": signed }],
      [first, { "stripe-signature": signed }],
      [first, { "stripe-signature": header(first, now() + 5) }],
      [second, { "stripe-signature": header(second) }],
    ]);
    expect(summary(answers)).toEqual(["202 accepted", "200 duplicate", "200 duplicate", "202 accepted"]);
    expect(answers[0]!.json.event_key).toBe("stripe:evt_replay_1");
    expect(stored).toBe(2);
  });

  it("replay - standard-webhooks: the id is signed, so a fresh id is 401 and stores nothing; a retry under the same id is a duplicate; two events are two", async () => {
    const body = sampleEvent({ seed: "standard-replay" });
    const other = sampleEvent({ seed: "standard-other" });
    const sign = (id: string, payload: string, at = new Date()) => ({
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(STANDARD_SECRET).sign(id, at, payload),
    });
    const signed = sign("msg_original", body);
    const { answers, stored } = await sendAll("standard", [
      [body, signed],
      [body, { ...signed, "webhook-id": "msg_replayed" }],
      [body, sign("msg_original", body, new Date(Date.now() + 5000))],
      [other, sign("msg_other", other)],
    ]);
    expect(summary(answers)).toEqual(["202 accepted", "401 signature_mismatch", "200 duplicate", "202 accepted"]);
    expect(answers[0]!.json.event_key).toBe("standard:msg_original");
    expect(stored).toBe(2);
  });
});

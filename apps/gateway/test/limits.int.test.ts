import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@tributary/config";
import { connectNats, MAX_PAYLOAD_BYTES, regionalStreamConfig } from "@tributary/streams";
import { sampleEvent, signWebhook, type NatsServer } from "@tributary/testkit";
import { MAX_BODY_BYTES_LIMIT } from "../src/config.js";
import { SECRET, startGateway, type GatewayUnderTest } from "./helpers.js";

/** A valid event of exactly `bytes` bytes (its filler makes up the difference). */
function eventOfSize(bytes: number): string {
  const bare = sampleEvent({ data: { filler: "" } });
  const body = sampleEvent({ data: { filler: "x".repeat(bytes - bare.length) } });
  expect(body.length).toBe(bytes);
  return body;
}

async function post(url: string, body: string) {
  const res = await fetch(`${url}/v1/sources/demo/events`, {
    method: "POST",
    headers: signWebhook({ secret: SECRET, body }),
    body,
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, any> };
}

/** Provisions the regional stream as an operator would (the gateway then runs with stream.manage false). */
function provision(overrides: Record<string, unknown> = {}) {
  return async (nats: NatsServer) => {
    const nc = await connectNats({ servers: [nats.url], name: "provision" });
    try {
      await (
        await jetstreamManager(nc)
      ).streams.add({ ...regionalStreamConfig({ region: "us", maxBytes: 64 * 1024 * 1024 }), ...overrides });
    } finally {
      await nc.close();
    }
  };
}

/** Changes the live stream under a running gateway. */
async function alterStream(gw: GatewayUnderTest, change: Record<string, unknown>): Promise<void> {
  const jsm = await jetstreamManager(gw.observer);
  const { config } = await jsm.streams.info("EVENTS_US");
  await jsm.streams.update("EVENTS_US", { ...config, ...change });
}

describe("gateway size limits against a real nats-server", () => {
  const largest = {
    sources: {
      demo: {
        scheme: { type: "webhook-hmac-sha256" },
        secrets: [{ id: "current", env: "GW_TEST_SECRET" }],
        maxBodyBytes: MAX_BODY_BYTES_LIMIT,
      },
    },
  };

  it("M12 - a source taking the largest bodies against a stock nats-server (1 MiB max_payload) stops the start naming the field, instead of answering them 503 forever", async () => {
    const started = startGateway(largest);
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toMatchObject({ field: "sources.demo.maxBodyBytes" });
  });

  it("limits - against a server configured as the repository's (max_payload 2 MiB), a body at the largest maxBodyBytes is stored (202)", async () => {
    const gw = await startGateway(largest, undefined, { extraConfig: `max_payload: ${MAX_PAYLOAD_BYTES}` });
    try {
      const res = await post(gw.url, eventOfSize(MAX_BODY_BYTES_LIMIT));
      expect(res.status).toBe(202);
      expect(await gw.streamMessages()).toBe(1);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it("M12 - a server or stream that cannot hold a source's largest body with its headers stops the start, naming the field", async () => {
    // nats-server's max_payload below what the source accepts.
    const small = startGateway({}, undefined, { extraConfig: "max_payload: 8192" });
    await expect(small).rejects.toBeInstanceOf(ConfigError);
    await expect(small).rejects.toMatchObject({ field: "sources.demo.maxBodyBytes" });
    // An operator-provisioned stream whose max_msg_size is below it.
    const stream = startGateway({ stream: { manage: false } }, undefined, {}, provision({ max_msg_size: 8192 }));
    await expect(stream).rejects.toMatchObject({ field: "sources.demo.maxBodyBytes" });
  });

  it("M1 - a provisioned stream whose duplicate window cannot guard a source's tolerance stops the start, naming the field", async () => {
    // Operators provisioned a 5-minute window; the source accepts a request for 2 × 300 s.
    const started = startGateway(
      { stream: { manage: false } },
      undefined,
      {},
      provision({ duplicate_window: 300 * 1_000_000_000 }),
    );
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toMatchObject({ field: "sources.demo.toleranceSeconds" });
  });

  it("L10 - a JetStream refusal reaches the sender as fixed text, never the server's description", async () => {
    const gw = await startGateway({ stream: { manage: false } }, undefined, {}, provision());
    try {
      expect((await post(gw.url, sampleEvent())).status).toBe(202);
      // A sealed stream refuses every publish with a description of its own.
      await alterStream(gw, { sealed: true });
      const res = await post(gw.url, sampleEvent());
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("buffer_unavailable");
      expect(res.json.error.message).toBe("the regional stream refused the event");
      expect(JSON.stringify(res.json)).not.toMatch(/sealed|EVENTS_US|invalid operation/i);
      expect(await gw.streamMessages()).toBe(1);
    } finally {
      await gw.close();
    }
  });

  it("M12 - an event the stream can never store is 413 payload_too_large, not a 503 to retry forever", async () => {
    const gw = await startGateway({ stream: { manage: false } }, undefined, {}, provision());
    try {
      // The stream's message cap shrinks after the start (an operator's change): the PubAck refuses.
      await alterStream(gw, { max_msg_size: 2048 });
      const res = await post(gw.url, eventOfSize(3000));
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe("payload_too_large");
      expect(res.headers.get("retry-after")).toBeNull();
      expect(JSON.stringify(res.json)).not.toMatch(/maximum allowed|EVENTS_US/i);
      expect(await gw.streamMessages()).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

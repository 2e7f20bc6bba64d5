import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import {
  connectNats,
  ensureStream,
  eventSubject,
  EventHeader,
  publishEvent,
  PublishError,
  regionalStreamConfig,
} from "../src/index.js";

const body = new TextEncoder().encode('{"event":"link.clicked","data":{}}');
function message(key: string, region = "us") {
  return {
    subject: eventSubject(region, "demo", "link.clicked"),
    body,
    eventKey: key,
    source: "demo",
    region,
    eventType: "link.clicked",
    receivedAt: new Date(),
  };
}

describe("streams publish", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await startNatsServer({ domain: "us" });
    nc = await connectNats({ servers: [server.url], name: "test" });
    await ensureStream(await jetstreamManager(nc), regionalStreamConfig({ region: "us" }));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  it("publish - acks with a sequence and writes the wire-contract headers", async () => {
    const js = jetstream(nc);
    const receipt = await publishEvent(js, message("demo:a1"));
    expect(receipt).toMatchObject({ stream: "EVENTS_US", duplicate: false });
    const stored = await (await jetstreamManager(nc)).streams.getMessage("EVENTS_US", { seq: receipt.seq });
    expect(stored?.header.get(EventHeader.MsgId)).toBe("demo:a1");
    expect(stored?.header.get(EventHeader.Source)).toBe("demo");
    expect(stored?.header.get(EventHeader.Region)).toBe("us");
    expect(stored?.header.get(EventHeader.EventType)).toBe("link.clicked");
    expect(new Date(stored!.header.get(EventHeader.ReceivedAt)).getTime()).toBeGreaterThan(0);
    expect(stored?.data).toEqual(body);
  });

  it("publish - the same key within the window is a duplicate and stores nothing new", async () => {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const first = await publishEvent(js, message("demo:dup"));
    const before = (await jsm.streams.info("EVENTS_US")).state.messages;
    const second = await publishEvent(js, message("demo:dup"));
    expect(second.duplicate).toBe(true);
    expect(second.seq).toBe(first.seq);
    expect((await jsm.streams.info("EVENTS_US")).state.messages).toBe(before);
  });

  it("publish - a full stream refuses new events as buffer_full and keeps the old ones", async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, { ...regionalStreamConfig({ region: "tiny", maxBytes: 4096 }) });
    const js = jetstream(nc);
    let refused: PublishError | undefined;
    let stored = 0;
    for (let i = 0; i < 200 && !refused; i++) {
      try {
        await publishEvent(js, message(`demo:full-${i}`, "tiny"));
        stored++;
      } catch (err) {
        refused = err as PublishError;
      }
    }
    expect(refused).toBeInstanceOf(PublishError);
    expect(refused?.code).toBe("buffer_full");
    const info = await jsm.streams.info("EVENTS_TINY");
    expect(info.state.messages).toBe(stored);
    expect(info.state.first_seq).toBe(1);
  });

  it("publish - with the server down it fails as buffer_unavailable within the timeout", async () => {
    const lone = await startNatsServer();
    const conn = await connectNats({ servers: [lone.url], name: "down" });
    try {
      await lone.kill();
      const started = Date.now();
      const err = await publishEvent(jetstream(conn), message("demo:down"), 500).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).code).toBe("buffer_unavailable");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await conn.close();
      await lone.cleanup();
    }
  });
});

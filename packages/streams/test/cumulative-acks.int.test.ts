import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNatsServer, type NatsServer } from "@tributary/testkit";
import { connectNats, CumulativeAcks, ensureConsumer, loaderConsumerConfig, trackedDelivery } from "../src/index.js";

/** Messages a consumer of AckPolicy.All acks through CumulativeAcks, checked against the server's own ack floor. */
describe("cumulative acks (a real nats-server)", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let stream = 0;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: [server.url], name: "cumulative-acks-test" });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.cleanup();
  });

  /** A stream of `count` messages and a cumulative consumer on it (ack wait 1 s: redeliveries come quickly). */
  async function streamWith(count: number): Promise<{ name: string; durable: string }> {
    const name = `S${++stream}`;
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    for (let i = 1; i <= count; i++) await js.publish(`${name}.m`, new TextEncoder().encode(String(i)));
    const durable = "loader";
    await ensureConsumer(
      jsm,
      name,
      loaderConsumerConfig({ durable, maxAckPending: 100, ackWaitMs: 1_000, acks: "cumulative" }),
    );
    return { name, durable };
  }

  async function take(name: string, durable: string, n: number): Promise<JsMsg[]> {
    const consumer = await js.consumers.get(name, durable);
    const batch = await consumer.fetch({ max_messages: n, expires: 2_000 });
    const out: JsMsg[] = [];
    for await (const m of batch) out.push(m);
    return out;
  }

  const floorOf = async (name: string, durable: string) => {
    await nc.flush();
    const info = await jsm.consumers.info(name, durable);
    return { floor: info.ack_floor.stream_seq, pending: info.num_ack_pending };
  };

  it("acks the settled prefix only, with one ack, whatever order messages settle in", async () => {
    const { name, durable } = await streamWith(10);
    const acks = new CumulativeAcks({ delayMs: 60_000 });
    const msgs = (await take(name, durable, 10)).map((m) => acks.track(m));
    for (const m of msgs.slice(1)) m.ack();
    acks.flush();
    expect(await floorOf(name, durable)).toEqual({ floor: 0, pending: 10 });
    expect(acks.acksSent).toBe(0);

    msgs[0]!.ack();
    acks.flush();
    expect(await floorOf(name, durable)).toEqual({ floor: 10, pending: 0 });
    expect(acks.acksSent).toBe(1);
    expect(acks.pending).toBe(0);
  });

  it("holds acks above a handed-back message until its redelivery settles, then covers it", async () => {
    const { name, durable } = await streamWith(5);
    const acks = new CumulativeAcks({ delayMs: 60_000 });
    const msgs = (await take(name, durable, 5)).map((m) => acks.track(m));
    msgs[2]!.nak(); // seq 3 handed back
    for (const i of [0, 1, 3, 4]) msgs[i]!.ack();
    acks.flush();
    expect(await floorOf(name, durable)).toEqual({ floor: 2, pending: 3 });

    const [again] = await take(name, durable, 1);
    expect(again!.seq).toBe(3);
    expect(again!.info.deliveryCount).toBe(2);
    acks.track(again!).ack();
    acks.flush();
    // The redelivery's delivery sequence is above seq 5's: the ack goes on seq 5, which covers 3.
    expect(await floorOf(name, durable)).toEqual({ floor: 5, pending: 0 });
  });

  it("never acks a redelivery whose delivery sequence would make the server ignore the acks of messages above it", async () => {
    const { name, durable } = await streamWith(3);
    const acks = new CumulativeAcks({ delayMs: 60_000 });
    const msgs = (await take(name, durable, 3)).map((m) => acks.track(m)); // delivery sequences 1-3
    msgs[0]!.nak();
    const [again] = await take(name, durable, 1); // seq 1 again, delivery sequence 4
    acks.track(again!).ack();
    acks.flush();
    // Acking seq 1 by its delivery 4 would leave seqs 2 and 3 (deliveries 2, 3) unackable.
    expect(await floorOf(name, durable)).toEqual({ floor: 0, pending: 3 });
    msgs[1]!.ack();
    msgs[2]!.ack();
    acks.flush();
    expect(await floorOf(name, durable)).toEqual({ floor: 3, pending: 0 });
  });

  it("a term (a dead-lettered message) waits for the messages below it like an ack", async () => {
    const { name, durable } = await streamWith(3);
    const acks = new CumulativeAcks({ delayMs: 60_000 });
    const msgs = (await take(name, durable, 3)).map((m) => acks.track(m));
    msgs[1]!.term("poison");
    acks.flush();
    // A term sent as is would have acked seq 1 (AckPolicy.All): nothing went out.
    expect(await floorOf(name, durable)).toEqual({ floor: 0, pending: 3 });
    msgs[0]!.ack();
    msgs[2]!.ack();
    acks.flush();
    expect(await floorOf(name, durable)).toEqual({ floor: 3, pending: 0 });
  });

  it("hands on a delivery's own bytes and numbers (trackedDelivery)", async () => {
    const { name, durable } = await streamWith(1);
    const acks = new CumulativeAcks();
    const [msg] = await take(name, durable, 1);
    const tracked = acks.track(msg!);
    expect(tracked.seq).toBe(1);
    expect(new TextDecoder().decode(tracked.data)).toBe("1");
    expect(trackedDelivery(tracked)).toBe(msg);
    tracked.ack();
    await new Promise((r) => setTimeout(r, 100)); // CUMULATIVE_ACK_DELAY_MS, then the ack
    expect(await floorOf(name, durable)).toEqual({ floor: 1, pending: 0 });
  });

  it("replaces a consumer that acked each message by a cumulative one that starts after its ack floor", async () => {
    const name = `S${++stream}`;
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    for (let i = 1; i <= 6; i++) await js.publish(`${name}.m`, new TextEncoder().encode(String(i)));
    const config = { durable: "loader", maxAckPending: 100, ackWaitMs: 30_000 };
    await ensureConsumer(jsm, name, loaderConsumerConfig(config));
    const first = await take(name, "loader", 4);
    for (const i of [0, 1, 3]) await first[i]!.ackAck(); // seq 3 never acked: the floor is 2
    expect(await floorOf(name, "loader")).toEqual({ floor: 2, pending: 1 });

    const info = await ensureConsumer(jsm, name, loaderConsumerConfig({ ...config, acks: "cumulative" }));
    expect(info.config.ack_policy).toBe(AckPolicy.All);
    const next = await take(name, "loader", 10);
    // From seq 3 on: 4 comes again (acked out of order before), none before the floor.
    expect(next.map((m) => m.seq)).toEqual([3, 4, 5, 6]);
    // A second start finds the policy in place and keeps the position.
    const again = await ensureConsumer(jsm, name, loaderConsumerConfig({ ...config, acks: "cumulative" }));
    expect(again.delivered.stream_seq).toBe(6);
  });
});

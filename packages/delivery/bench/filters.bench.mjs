// How fast one durable pull consumer hands over a destination's events when it filters with the
// exact list of its subjects (what deliveryFilterSubjects gives) versus one covering subject that
// also hands over events the deliverer would have to skip. Same stream, same run, twice each.
//   pnpm --filter @tributary/delivery bench:filters [--events 100000]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "@tributary/streams";
import { startNatsServer } from "@tributary/testkit";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { events: { type: "string", default: "100000" } },
});
const N = Number(values.events);
const TYPES = ["link.clicked", "link.opened", "install.tracked", "referral.created", "link.conversion"];
const dir = mkdtempSync(join(tmpdir(), "tributary-filters-bench-"));
const server = await startNatsServer({ domain: "hub", dir: join(dir, "nats") });
try {
  const nc = await connectNats({ servers: [server.url], name: "bench" });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: "EVENTS", subjects: ["events.>", "replay.>"] });
  const body = new Uint8Array(400);
  for (let i = 0; i < N; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, N - i) }, (_, j) => {
        const n = i + j;
        return js.publish(`events.${n % 2 ? "us" : "eu"}.${n % 3 ? "demo" : "other"}.${TYPES[n % 5]}`, body);
      }),
    );
  }
  // A destination taking three of the five types from source demo.
  const exact = ["events.*.demo.link.clicked", "events.*.demo.install.tracked", "events.*.demo.link.conversion"];
  const wanted = (subject) => exact.some((f) => subject.endsWith(f.slice("events.*".length)));
  const drain = async (name, filter) => {
    await jsm.consumers.add("EVENTS", {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 1024,
      ...filter,
    });
    const consumer = await js.consumers.get("EVENTS", name);
    const handed = (await consumer.info()).num_pending;
    let seen = 0;
    let matching = 0;
    const started = performance.now();
    while (seen < handed) {
      for await (const m of await consumer.fetch({ max_messages: 256, expires: 2_000 })) {
        seen++;
        if (wanted(m.subject)) matching++;
        m.ack();
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return { name, handed, matching, matchingPerSecond: Math.round(matching / seconds) };
  };
  const runs = [];
  for (const round of [1, 2]) {
    runs.push(await drain(`exact-${round}`, { filter_subjects: exact }));
    runs.push(await drain(`covering-${round}`, { filter_subject: "events.*.demo.>" }));
  }
  console.log(
    `nats-server ${nc.info?.version}, ${N} events in the stream, a destination taking ${runs[0].matching} of them`,
  );
  console.table(runs);
  await nc.close();
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

import { afterEach, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "@tributary/streams";
import { sleep, waitFor, type NatsServer } from "@tributary/testkit";
import { Ledger, loadedKeys, startTestTopology, steadyTraffic, type Answer } from "./harness.js";

type TestTopology = Awaited<ReturnType<typeof startTestTopology>>;

/** Stream info of a stream, answered by its leader (any node forwards the request; none answers during an election). */
async function streamInfo(topology: TestTopology, servers: string[], stream: string, timeout = 5_000) {
  const admin = topology.credentials.admin;
  const nc = await connectNats({ servers, name: "probe", user: admin.user, pass: admin.password });
  try {
    return await (await jetstreamManager(nc, { timeout })).streams.info(stream);
  } finally {
    await nc.close();
  }
}

/**
 * The stream's state as this one node holds it: its own monitoring endpoint, not the leader's
 * answer that a client connection to the node would get.
 */
async function lastSeqOnNode(node: NatsServer, stream: string): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${node.ports.monitoring}/jsz?accounts=true&streams=true`);
  if (!res.ok) return undefined;
  const jsz = (await res.json()) as {
    account_details?: Array<{ stream_detail?: Array<{ name: string; state: { last_seq: number } }> }>;
  };
  const detail = jsz.account_details?.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream);
  return detail?.state.last_seq;
}

describe("a region as a 3-node NATS cluster with R3 streams", () => {
  let topology: TestTopology | undefined;
  let traffic: ReturnType<typeof steadyTraffic> | undefined;
  afterEach(async () => {
    // A failed test leaves its traffic running: stop it before its gateways go.
    await traffic?.stop().catch(() => undefined);
    traffic = undefined;
    await topology?.cleanup();
    topology = undefined;
  });

  it("node killed - SIGKILL of the EVENTS_US stream leader: the gateway keeps answering 202 (503 with Retry-After only during the election), exactly the acknowledged events load, and the restarted node catches up", async () => {
    // Region us is the cluster under test. The hub and eu stay one nats-server each: the hub's
    // clustering is the same code path (startPart), and nine nats-servers are too much for 2 cores.
    topology = await startTestTopology({ cluster: { size: 3, regions: ["us"], hub: false } });
    const us = topology.regions.get("us")!;
    expect(us.nodes).toHaveLength(3);
    const info = await streamInfo(topology, us.natsUrls, "EVENTS_US");
    expect(info.config.num_replicas).toBe(3);
    const admin = topology.credentials.admin;
    const nc = await connectNats({ servers: us.natsUrls, name: "probe", user: admin.user, pass: admin.password });
    try {
      expect((await (await jetstreamManager(nc)).consumers.info("EVENTS_US", "hub-source")).config.num_replicas).toBe(
        3,
      );
    } finally {
      await nc.close();
    }

    const ledger = new Ledger();
    traffic = steadyTraffic(topology, ledger, ["us", "eu"]);
    await sleep(1_500);

    // The hard case: the node that leads EVENTS_US, so the stream needs an election.
    const leaderName = (await streamInfo(topology, us.natsUrls, "EVENTS_US")).cluster?.leader;
    const victimIndex = us.nodes.findIndex((_, i) => leaderName === `tributary-us-${i + 1}`);
    expect(victimIndex).toBeGreaterThanOrEqual(0);
    const victim = us.nodes[victimIndex]!;
    const others = us.natsUrls.filter((url) => url !== victim.url);

    const killedAt = Date.now();
    await victim.kill();
    // The followers wait out raft's election timeout (nats-server: 4 to 9 s, random) before electing.
    const newLeader = await waitFor(
      "a new EVENTS_US leader",
      async () => {
        const leader = (await streamInfo(topology!, others, "EVENTS_US", 1_000)).cluster?.leader;
        return leader && leader !== leaderName ? leader : undefined;
      },
      30_000,
      200,
    );
    const electedMs = Date.now() - killedAt;
    await sleep(3_000); // the region on two nodes: the gateway must be accepting again

    // Restart: the node comes back on its ports and store, and must fetch what it missed.
    const restartAt = Date.now();
    await victim.restart();
    const missedUpTo = (await streamInfo(topology, others, "EVENTS_US")).state.last_seq;
    await waitFor(
      "the restarted node holding what it missed",
      async () => (((await lastSeqOnNode(victim, "EVENTS_US")) ?? 0) >= missedUpTo ? true : undefined),
      30_000,
      100,
    );
    const caughtUpMs = Date.now() - restartAt;
    await sleep(1_000);
    await traffic.stop();

    // After traffic, the node holds the leader's last sequence, and the cluster sees it current.
    const final = await streamInfo(topology, us.natsUrls, "EVENTS_US");
    await waitFor(
      "the restarted node at the leader's last sequence",
      async () => ((await lastSeqOnNode(victim, "EVENTS_US")) === final.state.last_seq ? true : undefined),
      15_000,
      100,
    );
    await us.cluster!.waitHealthy(victim);
    const after = (await streamInfo(topology, us.natsUrls, "EVENTS_US")).cluster;
    const rejoined =
      after?.leader === leaderName
        ? "leader again"
        : after?.replicas?.find((r) => r.name === leaderName)?.current
          ? "current replica"
          : "behind";
    expect(["leader again", "current replica"]).toContain(rejoined);

    // The answers of region us: 202, and 503 with Retry-After only around the election.
    const usAnswers = ledger.answers.filter((a) => a.region === "us");
    const refused = usAnswers.filter((a) => a.status !== 202);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.code).toBe("buffer_unavailable");
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    const since = (t: number) => t - killedAt;
    const window =
      refused.length === 0
        ? undefined
        : {
            from: since(Math.min(...refused.map((a) => a.at - a.ms))),
            to: since(Math.max(...refused.map((a) => a.at))),
          };
    const acceptedWhileDown = usAnswers.filter(
      (a: Answer) => a.status === 202 && a.at > killedAt + (window?.to ?? 0) && a.at < restartAt,
    );
    console.log(
      `[cluster] killed ${leaderName} (leader of EVENTS_US), new leader ${newLeader} seen ${electedMs} ms after the kill; ` +
        (window
          ? `503 window: ${refused.length} answers, requests from +${window.from} ms to answers at +${window.to} ms after the kill (${window.to - window.from} ms)`
          : "503 window: none (no request was refused)") +
        `; ${acceptedWhileDown.length} answers 202 after it while the node was down; restarted node caught up ${caughtUpMs} ms after its restart (to seq ${missedUpTo}), final seq ${final.state.last_seq}; us answers ${JSON.stringify(Object.fromEntries(ledger.statuses((a) => a.region === "us")))}`,
    );
    // An election (plus a publish timeout for requests caught in it), not an outage.
    expect(window === undefined || window.to < electedMs + 7_000).toBe(true);
    expect(acceptedWhileDown.length).toBeGreaterThan(20); // the gateway keeps accepting on two nodes
    expect(ledger.statuses((a) => a.region === "eu")).toEqual(
      new Map([["202", ledger.answers.filter((a) => a.region === "eu").length]]),
    );

    // Every acknowledged event once; 503'd events may be stored (a PubAck lost in the election), but only attempted keys.
    const keys = await loadedKeys(topology, ledger.acknowledged);
    const loaded = new Set(keys);
    expect(keys.length).toBe(loaded.size); // none doubled
    expect([...ledger.acknowledged].filter((k) => !loaded.has(k))).toEqual([]); // none lost
    expect(keys.filter((k) => !ledger.attempted.has(k))).toEqual([]); // nothing invented
  }, 90_000);
});

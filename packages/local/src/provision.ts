import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import {
  connectNats,
  deliveriesStreamConfig,
  deliveryDlqStreamConfig,
  deliveryReplayStreamConfig,
  dlqStreamConfig,
  ensureConsumer,
  ensureStream,
  hubSourceConsumerConfig,
  hubStreamConfig,
  regionalStreamConfig,
  regionalStreamName,
  type UserCredential,
} from "@tributary/streams";
import type { NatsPart } from "./nats.js";

/**
 * The streams, provisioned by the admin user: the apps' own users cannot create them. A clustered
 * part gets streams (and the hub-source consumer) with one replica per node.
 */
export async function provision(hub: NatsPart, regions: Map<string, NatsPart>, admin: UserCredential): Promise<void> {
  // Each region's stream and its hub-source consumer first: the hub stream sources through them.
  for (const [region, part] of regions) {
    const replicas = part.nodes.length;
    await asAdmin(part, admin, async (jsm) => {
      await ensureStream(
        jsm,
        regionalStreamConfig({ region, maxBytes: 1024 ** 3, ...(replicas > 1 ? { replicas } : {}) }),
      );
      await ensureConsumer(jsm, regionalStreamName(region), {
        ...hubSourceConsumerConfig(region),
        ...(replicas > 1 ? { num_replicas: replicas } : {}),
      });
    });
  }
  const replicas = hub.nodes.length > 1 ? { replicas: hub.nodes.length } : {};
  await asAdmin(hub, admin, async (jsm) => {
    await ensureStream(jsm, hubStreamConfig({ regions: [...regions.keys()], maxBytes: 4 * 1024 ** 3, ...replicas }));
    await ensureStream(jsm, dlqStreamConfig(replicas));
    // The delivery process's streams: its DLQ, its replays, and the attempt log the aggregator
    // loads (before the aggregator starts, so it loads the log from its first moment).
    for (const config of [
      deliveryDlqStreamConfig(replicas),
      deliveryReplayStreamConfig(replicas),
      deliveriesStreamConfig(replicas),
    ])
      await ensureStream(jsm, config);
  });
}

/** Runs `work` with a JetStream manager of one NATS part, logged in as the admin; closes after. */
async function asAdmin(
  part: NatsPart,
  admin: UserCredential,
  work: (jsm: JetStreamManager) => Promise<void>,
): Promise<void> {
  const nc = await connectNats({
    servers: part.nodes.map((n) => n.url),
    name: "tributary-provision",
    user: admin.user,
    pass: admin.password,
  });
  try {
    await work(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

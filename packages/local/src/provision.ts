import { jetstream, JetStreamApiError, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ControlStore } from "@tributary/control";
import {
  auditStreamConfig,
  connectNats,
  deliveriesStreamConfig,
  deliveryConsumerName,
  deliveryDlqStreamConfig,
  deliveryFilterSubjects,
  deliveryReplayStreamConfig,
  dlqStreamConfig,
  ensureConsumer,
  ENRICHED_STREAM,
  enrichedStreamConfig,
  ensureStream,
  hubSourceConsumerConfig,
  hubStreamConfig,
  regionalStreamConfig,
  regionalStreamName,
  type UserCredential,
} from "@tributary/streams";
import type { NatsPart } from "./nats.js";
import { deliveryScopeOf, type DestinationSpec } from "./options.js";

/**
 * The streams, provisioned by the admin user: the apps' own users cannot create them. A clustered
 * part gets streams (and the hub-source consumer) with one replica per node.
 */
export async function provision(
  hub: NatsPart,
  regions: Map<string, NatsPart>,
  admin: UserCredential,
  destinations: readonly DestinationSpec[] = [],
): Promise<void> {
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
  await provisionControl(hub, regions, admin);
  const replicas = hub.nodes.length > 1 ? { replicas: hub.nodes.length } : {};
  await asAdmin(hub, admin, async (jsm) => {
    await ensureStream(jsm, hubStreamConfig({ regions: [...regions.keys()], maxBytes: 4 * 1024 ** 3, ...replicas }));
    // What the aggregator's enrich stage writes, and the loader and every destination read.
    await ensureStream(jsm, enrichedStreamConfig({ maxBytes: 4 * 1024 ** 3, ...replicas }));
    await ensureStream(jsm, dlqStreamConfig(replicas));
    // The delivery process's streams: its DLQ, its replays, and the attempt log the aggregator
    // loads (before the aggregator starts, so it loads the log from its first moment).
    for (const config of [
      deliveryDlqStreamConfig(replicas),
      deliveryReplayStreamConfig(replicas),
      deliveriesStreamConfig(replicas),
    ])
      await ensureStream(jsm, config);
    await alignDeliveryFilters(jsm, destinations);
  });
}

const CONSUMER_NOT_FOUND = 10014;

/**
 * A destination's consumer on the enriched stream keeps the filter it was made with. The delivery process
 * resets it to the destination's sources and types at start, but its NATS user may send the
 * consumer's create only with the configured filter (packages/streams deliveryPermissions), and the
 * client builds that request from the consumer's current filter: after a destination's sources or
 * types changed since the last run, the admin moves the existing consumer to them first.
 */
async function alignDeliveryFilters(jsm: JetStreamManager, destinations: readonly DestinationSpec[]): Promise<void> {
  for (const { name, sources, types } of destinations.map(deliveryScopeOf)) {
    const durable = deliveryConsumerName(name);
    const wanted = deliveryFilterSubjects(sources, types);
    let current: string[];
    try {
      const { config } = await jsm.consumers.info(ENRICHED_STREAM, durable);
      current = config.filter_subjects ?? (config.filter_subject ? [config.filter_subject] : []);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) continue; // made by the process
      throw err;
    }
    if (current.join("\n") === wanted.join("\n")) continue;
    await jsm.consumers.update(
      ENRICHED_STREAM,
      durable,
      wanted.length === 1
        ? { filter_subject: wanted[0]!, filter_subjects: undefined }
        : { filter_subjects: wanted, filter_subject: undefined },
    );
  }
}

/** Runs `work` with a JetStream manager of one NATS part, logged in as the admin; closes after. */
async function asAdmin(
  part: NatsPart,
  admin: UserCredential,
  work: (jsm: JetStreamManager, nc: NatsConnection) => Promise<void>,
): Promise<void> {
  const nc = await connectNats({
    servers: part.nodes.map((n) => n.url),
    name: "tributary-provision",
    user: admin.user,
    pass: admin.password,
  });
  try {
    // A one-off admin step: a clustered part may still be electing its meta leader, and an R3
    // stream's create waits for its peers, which under load takes longer than the 5 s default.
    await work(await jetstreamManager(nc, { timeout: 30_000 }), nc);
  } finally {
    await nc.close();
  }
}

/**
 * The control plane: the bucket and the audit stream at the hub, and each region's mirror of the
 * bucket (the gateways read it; they may not create it).
 */
async function provisionControl(hub: NatsPart, regions: Map<string, NatsPart>, admin: UserCredential): Promise<void> {
  const replicas = hub.nodes.length;
  await asAdmin(hub, admin, async (jsm, nc) => {
    await ControlStore.hub(jetstream(nc), { replicas });
    await ensureStream(jsm, auditStreamConfig({ replicas }));
  });
  for (const [region, part] of regions)
    await asAdmin(part, admin, async (_jsm, nc) => {
      await ControlStore.regionMirror(jetstream(nc), region, { replicas: part.nodes.length });
    });
}

import { erasurePermissions } from "./erasure.js";
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import {
  DELIVERIES_STREAM,
  DELIVERY_DLQ_STREAM,
  DELIVERY_REPLAY_STREAM,
  DELIVERY_REPLAY_SUBJECT_PREFIX,
} from "./delivery.js";
import { DLQ_STREAM, ENRICHED_STREAM, REPLAY_SUBJECT_PREFIX } from "./names.js";
import type { Permissions } from "./permissions.js";
import { CONTROL_USER, inboxPermission } from "./users.js";

/**
 * The control plane in NATS: sources and subscriptions as records of one KV bucket at the hub, a
 * read-only mirror of it in each region's domain, and the audit stream of every change.
 */
export const CONTROL_BUCKET = "tributary_control";
/** The stream behind the bucket (JetStream names a KV bucket's stream `KV_<bucket>`). */
export const CONTROL_KV_STREAM = `KV_${CONTROL_BUCKET}`;
/**
 * The key prefix under which the delivery process writes each subscription's breaker state
 * (`health.<subscription>`), apart from the subscription's record so it never moves its revision.
 */
export const CONTROL_HEALTH_PREFIX = "health";
export const AUDIT_STREAM = "CONTROL_AUDIT";
export const AUDIT_SUBJECT_PREFIX = "audit";
/** The hub's JetStream domain, which a region's mirror reads through. */
export const HUB_DOMAIN = "hub";

/**
 * Where the hub pushes a region's copy of the bucket. Set explicitly (nats.js would make one up)
 * so the hub's config can export exactly this prefix to exactly that region's link account.
 */
export function controlMirrorDeliverPrefix(region: string): string {
  return `deliver.control.${region}`;
}

/** The mirror's source in a region: the hub bucket's stream, read through the hub domain's API. */
export function controlMirrorSource(region: string): {
  name: string;
  external: { api: string; deliver: string };
} {
  return {
    name: CONTROL_KV_STREAM,
    external: { api: `$JS.${HUB_DOMAIN}.API`, deliver: controlMirrorDeliverPrefix(region) },
  };
}

/**
 * What a region's mirror sends the hub and gets back, seen from the hub's TRIBUTARY account, which
 * exports them to that region's link account only: the mirror's consumer create (nats-server maps
 * the region's `$JS.hub.API…` to `$JS.API…` in the link account), its flow-control replies, and
 * the region's own deliver prefix.
 */
export function controlMirrorExports(region: string): { services: string[]; streams: string[] } {
  return {
    services: [`$JS.API.CONSUMER.CREATE.${CONTROL_KV_STREAM}`, `$JS.FC.${CONTROL_KV_STREAM}.>`],
    streams: [`${controlMirrorDeliverPrefix(region)}.>`],
  };
}

/**
 * The link user's share of the mirror, in nats-server's leaf terms (publish: what the region sends
 * the hub; subscribe: what the hub sends the region): the create request as the region sends it,
 * flow-control replies; the deliveries and the create's reply (`$JSC.R.…`, the region server's own
 * inbox for it) back.
 */
export function controlMirrorLeafPermissions(region: string): Permissions {
  return {
    publish: [`$JS.${HUB_DOMAIN}.API.CONSUMER.CREATE.${CONTROL_KV_STREAM}`, `$JS.FC.${CONTROL_KV_STREAM}.>`],
    subscribe: [`${controlMirrorDeliverPrefix(region)}.>`, "$JSC.R.>"],
  };
}

/**
 * Reading the bucket (its stream info, direct gets, and watching it through an ordered consumer of
 * its own), for a gateway on its region's mirror or the delivery process at the hub. No writes.
 */
export function controlReadPermissions(): string[] {
  const stream = CONTROL_KV_STREAM;
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.NAMES`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * The management API's user at the hub: the bucket read and written (KV puts are publishes to
 * `$KV.tributary_control.…`), the audit stream written and read by sequence, hub events and the
 * delivery log read by sequence and subject (resend, bulk resend by filter and outcome), and events
 * put back for one subscription (`redeliver.{subscription}` on DELIVERY_REPLAY), a subscription's
 * consumer info on the enriched stream (its backlog; the breaker state the delivery process writes
 * under `health.` is in the bucket it reads anyway). Both DLQs read by
 * sequence and subject, their entries deleted (replayed or dropped), and the loader's replayed into
 * the hub stream (`replay.{source}`); a reference entry's bytes read from its origin (the enriched
 * stream, or DELIVERY_REPLAY for a replay that failed again). And erasure's header reads and
 * deletes on the streams that hold bodies (erasurePermissions). No stream management: the
 * provisioning creates the bucket and the audit stream.
 */
export function controlPermissions(): Permissions {
  return {
    publish: [
      `$JS.API.INFO`,
      ...controlReadPermissions(),
      `$KV.${CONTROL_BUCKET}.>`,
      `$JS.API.STREAM.INFO.${AUDIT_STREAM}`,
      `${AUDIT_SUBJECT_PREFIX}.>`,
      `$JS.API.STREAM.MSG.GET.${AUDIT_STREAM}`,
      `$JS.API.STREAM.INFO.${ENRICHED_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${ENRICHED_STREAM}`,
      // A subscription's backlog: its consumer's info (`delivery-<id>`, deliveryConsumerName). NATS
      // wildcards match whole tokens, so the prefix cannot be granted: info of any consumer of the
      // stream, which reads and changes nothing else.
      `$JS.API.CONSUMER.INFO.${ENRICHED_STREAM}.*`,
      `$JS.API.STREAM.INFO.${DELIVERIES_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${DELIVERIES_STREAM}`,
      `$JS.API.STREAM.INFO.${DELIVERY_REPLAY_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${DELIVERY_REPLAY_STREAM}`,
      `${DELIVERY_REPLAY_SUBJECT_PREFIX}.*`,
      `$JS.API.STREAM.MSG.GET.${DELIVERY_DLQ_STREAM}`,
      `$JS.API.STREAM.MSG.GET.${DLQ_STREAM}`,
      `${REPLAY_SUBJECT_PREFIX}.*`,
      // Also the DLQs' info and message deletes (a replayed or dropped entry), which erasure needs too.
      ...erasurePermissions(),
    ],
    subscribe: [inboxPermission(CONTROL_USER)],
  };
}

/** The audit stream: every change to a control record, kept a year (operators size it down or up). */
export function auditStreamConfig(opts: { replicas?: number } = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: AUDIT_STREAM,
    subjects: [`${AUDIT_SUBJECT_PREFIX}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: 365 * 24 * 3600 * 1e9,
    max_bytes: 1024 ** 3,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas ?? 1,
    allow_direct: false,
  };
}

export function auditSubject(kind: string, id: string): string {
  return `${AUDIT_SUBJECT_PREFIX}.${kind}.${id}`;
}

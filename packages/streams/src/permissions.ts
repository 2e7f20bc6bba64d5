import { durableConsumerPermissions } from "./consumer-permissions.js";
import { DEFAULT_DELIVERIES_DURABLE, deliveriesLoaderPermissions } from "./delivery.js";
import { DLQ_STREAM, DLQ_SUBJECT_PREFIX, HUB_STREAM, regionalStreamName, regionSubjects, sourceDeliverPrefix } from "./names.js";

/** A NATS user's publish/subscribe allow lists (everything else is denied). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** Replies to requests (PubAcks, JetStream API answers) come to the client's inbox. */
const INBOX = "_INBOX.>";

/**
 * A regional gateway: publish its own region's events and read its stream's info (fill level,
 * readiness). It cannot create or delete streams, read events, or publish to another region.
 */
export function gatewayPermissions(region: string): Permissions {
  const stream = regionalStreamName(region);
  return {
    publish: [regionSubjects(region), `$JS.API.STREAM.INFO.${stream}`],
    subscribe: [INBOX],
  };
}

/**
 * The aggregator at the hub: create/inspect and pull from its own durable consumer on the hub
 * stream, ack what it loaded, and write poison events to the DLQ. No stream management.
 */
export function aggregatorPermissions(durable: string, deliveriesDurable = DEFAULT_DELIVERIES_DURABLE): Permissions {
  // And its durable on DELIVERIES: the aggregator owns the warehouse, so it loads the delivery log too.
  const deliveries = deliveriesLoaderPermissions(deliveriesDurable);
  return {
    publish: [
      `$JS.API.INFO`,
      `$JS.API.STREAM.INFO.${HUB_STREAM}`,
      `$JS.API.STREAM.INFO.${DLQ_STREAM}`,
      ...durableConsumerPermissions(HUB_STREAM, durable),
      `${DLQ_SUBJECT_PREFIX}.>`,
      ...deliveries.publish,
    ],
    subscribe: [INBOX],
  };
}

/**
 * What a region's leafnode link may carry, seen from the hub (nats-server swaps publish and
 * subscribe for leaf connections): the hub may send the region only its stream's source-consumer
 * creation and flow-control replies; the region may send back only the create replies and its own
 * deliver subjects. Measured necessary on 2.10: without `$JS.FC…` sourcing stalls silently, without
 * `$JSC.R.*` nothing is sourced. `$JSC.R.*` is shared by all regions and cannot be narrowed in 2.10.
 */
export function leafPermissions(region: string): Permissions {
  const stream = regionalStreamName(region);
  return {
    publish: ["$JSC.R.*", `${sourceDeliverPrefix(region)}.>`],
    subscribe: [`$JS.${region}.API.CONSUMER.CREATE.${stream}`, `$JS.${region}.API.CONSUMER.CREATE.${stream}.>`, `$JS.FC.${stream}.>`],
  };
}

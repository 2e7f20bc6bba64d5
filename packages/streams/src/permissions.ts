import { durableConsumerPermissions } from "./consumer-permissions.js";
import { controlMirrorLeafPermissions, controlReadPermissions } from "./control.js";
import { DEFAULT_DELIVERIES_DURABLE, deliveriesLoaderPermissions } from "./delivery.js";
import { AGGREGATOR_USER, gatewayUser, inboxPermission } from "./users.js";
import {
  DLQ_STREAM,
  DLQ_SUBJECT_PREFIX,
  ENRICHED_LOADER_SUBJECTS,
  ENRICHED_PUBLISH_PREFIX,
  ENRICHED_STREAM,
  HUB_ENRICH_DURABLE,
  HUB_SOURCE_CONSUMER,
  HUB_STREAM,
  regionalStreamName,
  regionSubjects,
  sourceDeliverPrefix,
} from "./names.js";

/** A NATS user's publish/subscribe allow lists (everything else is denied). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
  /** Subjects refused although an allow-list wildcard covers them. */
  denyPublish?: string[];
}

/**
 * A regional gateway: publish its own region's events and read its stream's info (fill level,
 * readiness). It cannot create or delete streams, read events, or publish to another region.
 */
export function gatewayPermissions(region: string): Permissions {
  const stream = regionalStreamName(region);
  return {
    // And its region's mirror of the control bucket, read and watched: sources change at runtime.
    publish: [regionSubjects(region), `$JS.API.STREAM.INFO.${stream}`, ...controlReadPermissions()],
    subscribe: [inboxPermission(gatewayUser(region))],
  };
}

/**
 * The aggregator at the hub: its enrich stage pulls from its durable on the hub stream and
 * publishes to the enriched stream (events, replays, derived events); its loader pulls from its
 * durable on the enriched stream, acks what it loaded, and writes poison events to the DLQ. No
 * stream management.
 */
export function aggregatorPermissions(durable: string, deliveriesDurable = DEFAULT_DELIVERIES_DURABLE): Permissions {
  // And its durable on DELIVERIES: the aggregator owns the warehouse, so it loads the delivery log too.
  const deliveries = deliveriesLoaderPermissions(deliveriesDurable);
  return {
    publish: [
      `$JS.API.INFO`,
      `$JS.API.STREAM.INFO.${HUB_STREAM}`,
      `$JS.API.STREAM.INFO.${ENRICHED_STREAM}`,
      `$JS.API.STREAM.INFO.${DLQ_STREAM}`,
      ...durableConsumerPermissions(HUB_STREAM, HUB_ENRICH_DURABLE),
      ...durableConsumerPermissions(ENRICHED_STREAM, durable, ENRICHED_LOADER_SUBJECTS),
      // At each start both go back to their ack floor: what a killed predecessor had in flight comes now.
      `$JS.API.CONSUMER.RESET.${HUB_STREAM}.${HUB_ENRICH_DURABLE}`,
      `$JS.API.CONSUMER.RESET.${ENRICHED_STREAM}.${durable}`,
      // Its two durables ack cumulatively; one made when they acked each message is replaced (ensureConsumer).
      `$JS.API.CONSUMER.DELETE.${HUB_STREAM}.${HUB_ENRICH_DURABLE}`,
      `$JS.API.CONSUMER.DELETE.${ENRICHED_STREAM}.${durable}`,
      `${ENRICHED_PUBLISH_PREFIX}.>`,
      `${DLQ_SUBJECT_PREFIX}.>`,
      ...deliveries.publish,
    ],
    subscribe: [inboxPermission(AGGREGATOR_USER)],
  };
}

/**
 * The subjects a region's sourcing traffic uses at the hub, seen from the hub's account. Each
 * region's leafnode link logs in to an account of its own (`linkAccountName`), which exports just
 * these to the TRIBUTARY account that holds the hub stream:
 * - `services`: what the hub sends the region — its stream's source-consumer create (and the
 *   clean-up delete nats-server 2.15 sends), and the flow-control replies to that consumer;
 * - `streams`: what the region sends back — its own deliver subjects.
 * The create replies need no subject here: nats-server answers a service import through a one-off
 * `_R_` reply in the exporting account, so a region can only ever answer its own requests.
 */
export function linkExports(region: string): { services: string[]; streams: string[] } {
  const stream = regionalStreamName(region);
  return {
    services: [`$JS.${region}.API.CONSUMER.RESET.${stream}.${HUB_SOURCE_CONSUMER}`, `$JS.FC.${stream}.>`],
    streams: [`${sourceDeliverPrefix(region)}.>`],
  };
}

/**
 * What a region's leafnode link may carry, seen from the hub (nats-server swaps publish and
 * subscribe for leaf connections): the hub may send the region only its stream's sourcing requests
 * and flow-control replies; the region may send back only the `_R_` replies of its own link account
 * and its own deliver subjects. The replies were `$JSC.R.*` in one shared account before, which let
 * any region answer another's source-consumer create; the link account makes them per region.
 */
export function leafPermissions(region: string): Permissions {
  const exported = linkExports(region);
  // And the region's mirror of the control bucket (controlMirrorLeafPermissions).
  const mirror = controlMirrorLeafPermissions(region);
  return {
    publish: ["_R_.>", ...exported.streams, ...mirror.publish],
    subscribe: [...exported.services, ...mirror.subscribe],
  };
}

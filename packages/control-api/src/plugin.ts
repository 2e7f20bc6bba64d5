import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type {} from "@fastify/swagger"; // route schemas carry `tags`
import type { FastifyInstance } from "fastify";
import type { ControlStore, SealingKeys } from "@tributary/control";
import { AuditLog } from "./audit.js";
import { MANAGEMENT_ERRORS, ManagementError } from "./errors.js";
import type { EventLocation } from "./delivery-ops.js";
import { registerErasureRoutes, type ErasureBackend } from "./erasure.js";
import type { DeliveryStatsReader } from "./health.js";
import { registerLoaderDlqRoutes } from "./loader-dlq.js";
import { registerOperationRoutes } from "./operations.js";
import { registerRefusalRoutes } from "./refusals.js";
import { registerPreviewRoute } from "./preview.js";
import { Records } from "./records.js";
import { registerSourceRoutes } from "./sources.js";
import { registerSubscriptionDlqRoutes } from "./subscription-dlq.js";
import { registerSubscriptionRoutes } from "./subscriptions.js";

/** The hub connection the routes use: undefined until the process has connected (503 meanwhile). */
export interface ControlConnection {
  store: ControlStore;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export interface ControlApiDeps {
  connection: () => ControlConnection | undefined;
  keys: SealingKeys;
  /** Where the warehouse says an event is, for resend by key. */
  findEvent?: (key: string) => Promise<EventLocation | undefined>;
  /** The newest event in the warehouse among some sources (undefined: every source): what a filter preview runs on by default. */
  newestEvent?: (sources: readonly string[] | undefined) => Promise<EventLocation | undefined>;
  /** Non-public addresses subscriptions may reach (test sends); the delivery process's list. */
  allowPrivate?: readonly string[];
  /** The Prometheus that scrapes every gateway: where a source's recent refusals are read. */
  prometheusUrl?: string;
  /** The warehouse side of erasure; absent (an API without the warehouse): `POST /v1/erasures` answers erasure_unavailable. */
  erasure?: ErasureBackend;
  /** The delivery log's sums per subscription (a subscription's health); absent: its attempt figures are null. */
  deliveryStats?: DeliveryStatsReader;
  now?: () => Date;
}

/**
 * The management routes, registered on the host API (the query API's plugin): its auth hook sets
 * `request.principal` with a scope, its error handler renders the codes, its OpenAPI document
 * lists the routes.
 */
export function registerControlRoutes(app: FastifyInstance, deps: ControlApiDeps): void {
  const now = deps.now ?? (() => new Date());
  const records = new Records(() => deps.connection()?.store);
  const audit = new AuditLog(deps.connection, now);
  const nats = () => {
    const connection = deps.connection();
    if (!connection) throw new ManagementError("control_unavailable", "not connected to the hub yet");
    return connection;
  };
  registerSourceRoutes(app, { records, keys: deps.keys, audit, now });
  const health = {
    connection: deps.connection,
    now,
    ...(deps.deliveryStats ? { stats: deps.deliveryStats } : {}),
    log: (err: unknown, what: string) => app.log.warn({ err }, `subscription health: ${what} did not answer`),
  };
  registerSubscriptionRoutes(app, { records, keys: deps.keys, audit, now, health });
  registerOperationRoutes(app, {
    records,
    keys: deps.keys,
    audit,
    nats,
    now,
    allowPrivate: deps.allowPrivate ?? [],
    ...(deps.findEvent ? { findEvent: deps.findEvent } : {}),
  });
  registerPreviewRoute(app, {
    nats,
    ...(deps.findEvent ? { findEvent: deps.findEvent } : {}),
    ...(deps.newestEvent ? { newestEvent: deps.newestEvent } : {}),
  });
  registerRefusalRoutes(app, deps.prometheusUrl);
  registerErasureRoutes(app, { backend: deps.erasure ?? noErasure, audit, nats, now });
  registerSubscriptionDlqRoutes(app, { records, audit, nats });
  registerLoaderDlqRoutes(app, { audit, nats });
}

const noErasure: ErasureBackend = {
  findRows: () =>
    Promise.reject(new ManagementError("erasure_unavailable", MANAGEMENT_ERRORS.erasure_unavailable.meaning)),
  eraseRows: () =>
    Promise.reject(new ManagementError("erasure_unavailable", MANAGEMENT_ERRORS.erasure_unavailable.meaning)),
  retainedSince: () => undefined,
  visitorHashes: () => {
    throw new ManagementError("erasure_unavailable", MANAGEMENT_ERRORS.erasure_unavailable.meaning);
  },
};

import { defineErrors } from "@tributary/errors";

/** The management API's refusals (rendered by the API's error handler like every other code). */
export const MANAGEMENT_ERRORS = {
  forbidden_scope: {
    status: 403,
    meaning:
      "the token's scope does not allow this: `read` reads, `write` changes subscriptions (and replays or drops their dead letters), `admin` also changes sources, replays or drops the loader's dead letters and reads the audit log",
    fix: "use a token with the scope named in the message",
  },
  resource_not_found: {
    status: 404,
    meaning: "no source, subscription or secret with this id",
    fix: "list the resources to find the id",
  },
  already_exists: { status: 409, meaning: "a resource with this id exists", fix: "pick another id, or update it" },
  revision_conflict: {
    status: 409,
    meaning: "the resource changed since the revision given in If-Match",
    fix: "read it again and apply the change to the current revision",
  },
  invalid_resource: {
    status: 400,
    meaning: "the resource is malformed or inconsistent (a scheme option, a secret's text, a filter); `field` names it",
    fix: "correct the named field",
  },
  secret_limit: {
    status: 409,
    meaning: "a source holds 8 secrets at most, and keeps at least one",
    fix: "retire a secret before adding one, or add one before retiring the last",
  },
  event_not_found: {
    status: 404,
    meaning: "the event is not in the warehouse, or no longer in the hub stream (aged out)",
    fix: "check the key; events older than the hub stream's retention cannot be resent",
  },
  visitor_hash_unavailable: {
    status: 409,
    meaning:
      "no enrichment hash key is configured, so rows carry no visitor hash and one visitor's rows cannot be found",
    fix: "set the aggregator's enrich.hashKeyEnv or enrich.hashKeyFile (rows loaded from then on can be found); erase by key or source meanwhile",
  },
  erasure_unavailable: {
    status: 404,
    meaning:
      "this API does not serve erasure: it is served beside the warehouse, by the aggregator with the management API on",
    fix: "send the request to the aggregator's API (`tributary erase` finds it from the context)",
  },
  dlq_entry_not_found: {
    status: 404,
    meaning:
      "no dead letter with this sequence in this DLQ (replayed or dropped already, aged out, another subscription's, or of a source the token may not read)",
    fix: "list the DLQ again to find the entry",
  },
  dlq_entry_empty: {
    status: 409,
    meaning:
      "the entry keeps a reference instead of the event's bytes (the event was too large for an entry) and its origin stream no longer has them",
    fix: "replay it with a corrected body, or drop it",
  },
  dlq_entry_not_replayable: {
    status: 409,
    meaning: "the entry is a delivery-log record the warehouse refused, not an event: there is nothing to replay",
    fix: "read its reason, then drop it",
  },
  invalid_replay_body: {
    status: 400,
    meaning: "the corrected body of a replay is not a JSON object, or is larger than 1 MiB; nothing was replayed",
    fix: "send the event as a JSON object in `body` (text), or leave `body` out to replay the entry as it is",
  },
  refusals_unavailable: {
    status: 404,
    meaning: "no Prometheus is configured for the management API: the gateways count refusals in their own processes",
    fix: "set the aggregator's control.prometheusUrl to the Prometheus that scrapes every gateway, or run the query the message gives there",
  },
  metrics_unavailable: {
    status: 503,
    meaning: "the configured Prometheus did not answer, or refused the query",
    fix: "check that Prometheus runs at control.prometheusUrl and scrapes the gateways; retry",
  },
  control_unavailable: {
    status: 503,
    meaning: "the control bucket or the hub did not answer",
    fix: "retry later",
  },
} as const;

export type ManagementErrorCode = keyof typeof MANAGEMENT_ERRORS;

export class ManagementError extends defineErrors("ManagementError", MANAGEMENT_ERRORS) {
  declare readonly status: number;
}

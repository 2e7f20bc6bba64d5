/**
 * Messaging and database attribute names from the semantic conventions that are still
 * "development" status. OpenTelemetry advises copying such names rather than importing the
 * unstable `incubating` entry point, whose exports may change in a minor release.
 * https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/
 */
export const MESSAGING_ATTRS = {
  system: "messaging.system",
  operationType: "messaging.operation.type",
  operationName: "messaging.operation.name",
  destinationName: "messaging.destination.name",
  messageId: "messaging.message.id",
  bodySize: "messaging.message.body.size",
  batchCount: "messaging.batch.message_count",
  consumerGroup: "messaging.consumer.group.name",
  dbSystem: "db.system.name",
  dbOperation: "db.operation.name",
  dbCollection: "db.collection.name",
  dbBatchSize: "db.operation.batch.size",
} as const;

import { PermissionViolationError } from "@nats-io/nats-core";

/**
 * What pulling from one durable consumer takes: inspect it, create or update it, pull, and ack.
 * Every least-privilege user that consumes (the aggregator, its delivery-log loader, each
 * destination of the delivery process) gets exactly this per durable.
 *
 * The create is granted on the one subject the client sends for this consumer, never a wildcard:
 * nats-server checks that a filter named in the create subject (`…CREATE.{stream}.{durable}.{filter}`)
 * equals the config's filter, so a consumer with one filter subject can be created or updated only
 * with that filter. Without a filter the create subject ends at the durable (the consumer reads
 * the whole stream; a filter the client adds can only narrow it). With several filter subjects the
 * client must use the older `DURABLE.CREATE` subject, which carries no filter: the server cannot
 * pin those filters, and such a consumer's user can change them (see the streams README).
 */
export function durableConsumerPermissions(
  stream: string,
  durable: string,
  filterSubjects: readonly string[] = [],
): string[] {
  const consumer = `${stream}.${durable}`;
  // The client leaves `>` out of the create subject: it is no filter at all.
  const filters = filterSubjects.filter((s) => s !== ">");
  const create =
    filters.length > 1
      ? `$JS.API.CONSUMER.DURABLE.CREATE.${consumer}`
      : `$JS.API.CONSUMER.CREATE.${consumer}${filters.length === 1 ? `.${filters[0]}` : ""}`;
  return [
    `$JS.API.CONSUMER.INFO.${consumer}`,
    create,
    `$JS.API.CONSUMER.MSG.NEXT.${consumer}`,
    `$JS.ACK.${consumer}.>`,
  ];
}

/**
 * Whether NATS refused an operation for the user's permissions: nats.js's own error, or one whose
 * message (or cause) says so (a JetStream request answers a timeout with the violation as cause).
 */
export function isPermissionDenied(err: unknown): boolean {
  if (err instanceof PermissionViolationError) return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return (
    /permissions? violation/i.test(String((err as Error | null)?.message ?? "")) ||
    (cause !== undefined && isPermissionDenied(cause))
  );
}

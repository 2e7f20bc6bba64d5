/**
 * What pulling from one durable consumer takes: inspect it, create or update it (also with a
 * filter subject), pull, and ack. Every least-privilege user that consumes (the aggregator, its
 * delivery-log loader, each destination of the delivery process) gets exactly this per durable.
 */
export function durableConsumerPermissions(stream: string, durable: string): string[] {
  const consumer = `${stream}.${durable}`;
  return [
    `$JS.API.CONSUMER.INFO.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${consumer}`,
    `$JS.API.CONSUMER.CREATE.${consumer}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${consumer}`,
    `$JS.API.CONSUMER.MSG.NEXT.${consumer}`,
    `$JS.ACK.${consumer}.>`,
  ];
}

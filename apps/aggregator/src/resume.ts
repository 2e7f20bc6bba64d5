import type { JetStreamManager } from "@nats-io/jetstream";

export interface ResumeLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Puts one of the aggregator's durable consumers back at its ack floor as the process starts, so
 * that what a killed or restarted predecessor had taken and not settled is delivered again now, in
 * stream order, instead of each message waiting out its ack wait (a minute by default; up to
 * `maxAckPending` events late). Messages acked out of order above the floor come again as well:
 * the enriched stream's duplicate window and the warehouse key keep one copy. Safe because one
 * aggregator reads these consumers (the hub chart runs one). Needs nats-server 2.14
 * (`$JS.API.CONSUMER.RESET`, in the aggregator's permissions); where it is refused, the start goes
 * on and the old messages come back after their ack wait, as before.
 */
export async function resumeAtAckFloor(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  log: ResumeLog,
): Promise<void> {
  try {
    const reset = await jsm.consumers.reset(stream, durable);
    log.info({ stream, durable, from: reset.reset_seq }, "consumer resumed at its ack floor");
  } catch (err) {
    log.warn(
      { err, stream, durable },
      "could not reset the consumer to its ack floor: events in flight before this start come back after their ack wait",
    );
  }
}

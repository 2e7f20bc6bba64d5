import type { JetStreamManager } from "@nats-io/jetstream";
import { ConfigError } from "@tributary/errors";
import { isPermissionDenied } from "@tributary/streams";

export interface ResumeLog {
  info(obj: object, msg?: string): void;
}

/**
 * Puts one of the aggregator's durable consumers back at its ack floor as the process starts, so
 * that what a killed or restarted predecessor had taken and not settled is delivered again now, in
 * stream order, instead of each message waiting out its ack wait (a minute by default; up to
 * `maxAckPending` events late). Messages acked out of order above the floor come again as well:
 * the enriched stream's duplicate window and the warehouse key keep one copy.
 *
 * Required, not a nicety: the consumers ack cumulatively (CumulativeAcks), and without the reset the
 * new process's first ack would cover the messages its predecessor had taken and not settled.
 * Safe because one aggregator reads these consumers (the hub chart runs one). nats-server 2.14
 * (`$JS.API.CONSUMER.RESET`); a user without the permission stops the start with exit 78.
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
    if (!isPermissionDenied(err)) throw err;
    throw new ConfigError(
      "nats.user",
      `may not reset its consumer ${stream} > ${durable} ($JS.API.CONSUMER.RESET.${stream}.${durable})`,
      "give the aggregator's NATS user the permissions `tributary render-nats` and the hub chart write (aggregatorPermissions)",
      { cause: err },
    );
  }
}

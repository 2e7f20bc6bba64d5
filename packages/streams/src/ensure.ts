import { setTimeout as sleep } from "node:timers/promises";
import { JetStreamErrorCode } from "./publish.js";
import {
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
  type ConsumerConfig,
  type ConsumerInfo,
} from "@nats-io/jetstream";

const CONSUMER_NOT_FOUND = 10014;

/** Creates the stream, or updates it to this config when it exists (idempotent at every start). */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamErrorCode.StreamNotFound)
      return jsm.streams.add(config);
    throw err;
  }
  return jsm.streams.update(config.name, config);
}

/**
 * Creates the durable consumer, or updates the settings that may change on a live consumer. One
 * whose ack policy differs (a consumer made before its owner acked cumulatively) is replaced by
 * one that starts after its ack floor: what it had not acked is delivered again, which every
 * reader here tolerates (the warehouse and the enriched stream keep one copy of an event).
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<ConsumerInfo> {
  let existing: ConsumerInfo;
  try {
    existing = await jsm.consumers.info(stream, config.durable_name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) return jsm.consumers.add(stream, config);
    throw err;
  }
  if (config.ack_policy !== undefined && existing.config.ack_policy !== config.ack_policy) {
    const floor = existing.ack_floor.stream_seq;
    await jsm.consumers.delete(stream, config.durable_name);
    return jsm.consumers.add(stream, {
      ...config,
      ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : {}),
    });
  }
  return jsm.consumers.update(stream, config.durable_name, {
    ...(config.ack_wait !== undefined ? { ack_wait: config.ack_wait } : {}),
    ...(config.max_ack_pending !== undefined ? { max_ack_pending: config.max_ack_pending } : {}),
    ...(config.max_deliver !== undefined ? { max_deliver: config.max_deliver } : {}),
  });
}

/**
 * Runs `attempt` until it no longer fails for a missing stream: where operators provision the
 * streams (a Helm Job), an app may start first. It waits (not ready meanwhile) rather than exit and
 * be restarted in a loop. `onWait` is told each failed attempt (log every so often); any other
 * error is thrown. Resolves undefined when `signal` aborts the wait (the app is shutting down).
 */
export async function retryWhileStreamMissing<T>(
  attempt: () => Promise<T>,
  opts: { onWait: (attempt: number) => void; intervalMs?: number; signal?: AbortSignal },
): Promise<T | undefined> {
  for (let n = 0; !opts.signal?.aborted; n++) {
    try {
      return await attempt();
    } catch (err) {
      // Stopping: whatever the attempt failed on (a connection being drained), there is no start.
      if (opts.signal?.aborted) return undefined;
      if (!(err instanceof JetStreamApiError && err.code === JetStreamErrorCode.StreamNotFound)) throw err;
      opts.onWait(n);
      // An abort ends the wait at once (the loop then returns undefined).
      await sleep(opts.intervalMs ?? 2_000, undefined, opts.signal ? { signal: opts.signal } : {}).catch(
        () => undefined,
      );
    }
  }
  return undefined;
}

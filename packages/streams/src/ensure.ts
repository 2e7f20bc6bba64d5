import { JetStreamErrorCode } from "./publish.js";
import { JetStreamApiError, type JetStreamManager, type StreamConfig, type StreamInfo, type ConsumerConfig, type ConsumerInfo } from "@nats-io/jetstream";

const CONSUMER_NOT_FOUND = 10014;

/** Creates the stream, or updates it to this config when it exists (idempotent at every start). */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamErrorCode.StreamNotFound) return jsm.streams.add(config);
    throw err;
  }
  return jsm.streams.update(config.name, config);
}

/** Creates the durable consumer, or updates the settings that may change on a live consumer. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<ConsumerInfo> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === CONSUMER_NOT_FOUND) return jsm.consumers.add(stream, config);
    throw err;
  }
  return jsm.consumers.update(stream, config.durable_name, {
    ...(config.ack_wait !== undefined ? { ack_wait: config.ack_wait } : {}),
    ...(config.max_ack_pending !== undefined ? { max_ack_pending: config.max_ack_pending } : {}),
    ...(config.max_deliver !== undefined ? { max_deliver: config.max_deliver } : {}),
  });
}

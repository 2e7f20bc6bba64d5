import { ConfigError } from "@tributary/config";
import { HEADER_ALLOWANCE_BYTES, type GatewayConfig } from "./config.js";

/** What the regional NATS server and stream take, as read at start. */
export interface RegionLimits {
  /** The server's `max_payload` (its INFO): one message, headers and body. */
  maxPayload: number | undefined;
  /** The regional stream's `max_msg_size`; -1 or 0 when it sets none. */
  maxMsgSize: number | undefined;
}

/**
 * Refuses a config the region cannot serve: a source whose largest body, with its headers, is
 * more than the server or the stream takes. Such events could never be stored; found at start,
 * it is a config error naming the field (exit 78) instead of a refusal per event. The config
 * schema already caps `maxBodyBytes` for nats-server's default; this catches servers and streams
 * set lower.
 */
export function checkRegionLimits(config: GatewayConfig, limits: RegionLimits): void {
  const caps: Array<[number, string]> = [];
  if (limits.maxPayload !== undefined && limits.maxPayload > 0)
    caps.push([limits.maxPayload, "the regional NATS server's max_payload"]);
  if (limits.maxMsgSize !== undefined && limits.maxMsgSize > 0)
    caps.push([limits.maxMsgSize, `the regional stream's max_msg_size`]);
  for (const source of config.sources.values()) {
    for (const [cap, what] of caps) {
      if (source.maxBodyBytes + HEADER_ALLOWANCE_BYTES > cap)
        throw new ConfigError(
          `sources.${source.id}.maxBodyBytes`,
          `is ${source.maxBodyBytes} bytes, but ${what} is ${cap} bytes, headers included`,
          `lower it to at most ${cap - HEADER_ALLOWANCE_BYTES}, or raise ${what}`,
        );
    }
  }
}

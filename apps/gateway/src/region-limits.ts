import { ConfigError } from "@tributary/config";
import { checkToleranceAgainstWindow, HEADER_ALLOWANCE_BYTES, type GatewayConfig } from "./config.js";

/** What the regional NATS server and stream take, as read at start. */
export interface RegionLimits {
  /** The server's `max_payload` (its INFO): one message, headers and body. */
  maxPayload: number | undefined;
  /** The regional stream's `max_msg_size`; -1 or 0 when it sets none. */
  maxMsgSize: number | undefined;
  /** The regional stream's duplicate window, in nanoseconds (as JetStream gives it). */
  duplicateWindowNs: number | undefined;
}

/**
 * Refuses a config the region cannot serve: a source whose largest body, with its headers, is
 * more than the server or the stream takes (such events could never be stored), or a duplicate
 * window too short to catch a replay inside a source's timestamp tolerance. Found at start, it is
 * a config error naming the field (exit 78) instead of a failure per event. The config checks
 * already cover the defaults and the configured window; this catches servers set lower and streams
 * that operators provision (`stream.manage: false`).
 */
export function checkRegionLimits(config: GatewayConfig, limits: RegionLimits): void {
  if (limits.duplicateWindowNs !== undefined && limits.duplicateWindowNs > 0)
    checkToleranceAgainstWindow(config.sources.values(), Math.floor(limits.duplicateWindowNs / 1e9), "provisioned");
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

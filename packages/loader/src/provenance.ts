import { REPLAY_SUBJECT_PREFIX, REPLAYED_SUBJECT_PREFIX, regionalStreamName } from "@tributary/streams";

/** The headers the loader would otherwise take on trust. */
export interface ClaimedOrigin {
  eventKey: string;
  source: string;
  region: string;
  /** Tributary-Event-Type; "" when absent. */
  eventType: string;
  /** Nats-Stream-Source of a sourced message (`<stream>[:<hash>] <seq> …`); "" when absent. */
  streamSource: string;
}

/** A header value quoted for a poison reason: short, whatever the publisher put there. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

/**
 * Why a message's headers disagree with where it arrived, or undefined when they agree. The subject
 * is the stronger evidence: a region's NATS users may publish only `events.{region}.>`, its stream
 * holds only those subjects and sourcing keeps them, and the hub's own subjects are
 * `replay.{source}`. The headers are whatever the publisher chose. So region, source, type and the
 * key's source prefix must be the subject's (`events.{region}.{source}.{type}`, or
 * `replay.{source}` for a replay, whose region only its headers can tell), and a sourced message
 * must come from that region's stream. Without the check, a gateway (or a region) that is
 * compromised stamps its events as another region's, or a key as another source's.
 */
export function originMismatch(subject: string, claimed: ClaimedOrigin): string | undefined {
  const tokens = subject.split(".");
  let source: string;
  if (tokens[0] === "events" && tokens.length >= 4) {
    const region = tokens[1]!;
    source = tokens[2]!;
    const type = tokens.slice(3).join(".");
    if (claimed.region !== region) return `Tributary-Region ${quoted(claimed.region)} on ${subject}`;
    if (claimed.eventType && claimed.eventType !== type)
      return `Tributary-Event-Type ${quoted(claimed.eventType)} on ${subject}`;
    if (claimed.streamSource) {
      const stream = claimed.streamSource.split(" ")[0]!.split(":")[0]!;
      if (stream !== regionalStreamName(region))
        return `sourced from ${quoted(stream)}, not ${regionalStreamName(region)}, on ${subject}`;
    }
  } else if ((tokens[0] === REPLAY_SUBJECT_PREFIX || tokens[0] === REPLAYED_SUBJECT_PREFIX) && tokens.length === 2) {
    source = tokens[1]!;
  } else {
    return `${quoted(subject)} is not an event subject (events.{region}.{source}.{type} or replay.{source})`;
  }
  if (claimed.source !== source) return `Tributary-Source ${quoted(claimed.source)} on ${subject}`;
  if (!claimed.eventKey.startsWith(`${source}:`))
    return `the key ${quoted(claimed.eventKey)} is not of source ${source}`;
  return undefined;
}

import { headers as createHeaders } from "@nats-io/nats-core";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { deliveryDlqSubject, EventHeader } from "@tributary/streams";
import { ORIGINAL_MSG_ID } from "./event.js";
import { oneLine } from "./sender.js";

/** Headers a delivery DLQ entry adds to the event's own. */
export const DeliveryDlqHeader = {
  Destination: "Tributary-Destination",
  Status: "Tributary-Delivery-Status",
  Attempts: "Tributary-Delivery-Attempts",
  Response: "Tributary-Delivery-Response",
  At: "Tributary-Dlq-At",
} as const;

export interface DeadLetter {
  destination: string;
  /** `<code>: <detail>`. */
  reason: string;
  status: number;
  attempts: number;
  /** Start of the destination's answer, when there was one. */
  response: string;
}

/**
 * Moves the event to `delivery-dlq.{destination}` with its original bytes and headers (its key
 * kept as Tributary-Original-Msg-Id so the DLQ does not dedupe entries) and why, then acks it.
 * If the DLQ write fails the event is nak'ed (tried again later), never dropped.
 */
export async function deadLetter(js: JetStreamClient, msg: JsMsg, entry: DeadLetter): Promise<boolean> {
  const h = createHeaders();
  const skip = new Set<string>([EventHeader.DlqReason, EventHeader.DlqOrigin, ...Object.values(DeliveryDlqHeader)]);
  for (const [name, values] of msg.headers ?? []) {
    if (name === EventHeader.MsgId) h.set(ORIGINAL_MSG_ID, values[0] ?? "");
    else if (name.startsWith("Nats-") || skip.has(name)) continue;
    else for (const value of values) h.append(name, value);
  }
  h.set(EventHeader.DlqReason, oneLine(entry.reason).slice(0, 1000));
  h.set(EventHeader.DlqOrigin, `${msg.info.stream}:${msg.seq}`);
  h.set(DeliveryDlqHeader.Destination, entry.destination);
  h.set(DeliveryDlqHeader.Status, String(entry.status));
  h.set(DeliveryDlqHeader.Attempts, String(entry.attempts));
  h.set(DeliveryDlqHeader.At, new Date().toISOString());
  if (entry.response) h.set(DeliveryDlqHeader.Response, oneLine(entry.response));
  try {
    await js.publish(deliveryDlqSubject(entry.destination), msg.data, { headers: h });
  } catch {
    msg.nak(5_000);
    return false;
  }
  msg.ack();
  return true;
}

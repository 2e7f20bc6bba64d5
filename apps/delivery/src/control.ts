import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

import { ControlStore, SealingKeys } from "@tributary/control";
import { AuditLog } from "@tributary/control-api";
import type { DeliveryLog } from "@tributary/delivery";
import { DeliveryService, type DeliveryServiceOptions } from "./service.js";
import { SubscriptionSync } from "./subscriptions.js";

/**
 * The subscriptions of the control bucket, kept running (subscriptions.ts): the bucket opened at
 * the hub (made by the provisioning), its changes watched, automatic pauses written back and audited.
 */
export async function startSubscriptionSync(
  nc: NatsConnection,
  service: DeliveryService,
  opts: { allowPrivate: readonly string[]; log: DeliveryLog; keys?: SealingKeys },
): Promise<SubscriptionSync> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const sync = new SubscriptionSync({
    service,
    store: await ControlStore.open(js, { writable: true }),
    keys: opts.keys ?? SealingKeys.fromEnv(),
    audit: new AuditLog(() => ({ js, jsm })),
    allowPrivate: opts.allowPrivate,
    log: opts.log,
  });
  await sync.start();
  return sync;
}

/**
 * The deliverers of the config file (waiting, unready, while a stream is not provisioned; the
 * signal ends the wait), then, with `control.enabled`, the control bucket's subscriptions.
 */
export async function startDelivery(
  options: Omit<DeliveryServiceOptions, "onStateChange">,
  signal: AbortSignal,
  control: { enabled: boolean; allowPrivate: readonly string[] },
): Promise<{ service: DeliveryService | undefined; sync: SubscriptionSync | undefined }> {
  let sync: SubscriptionSync | undefined;
  const service = await DeliveryService.startWhenProvisioned(
    { ...options, onStateChange: (change) => sync?.onStateChange(change) },
    signal,
  );
  if (service && control.enabled)
    sync = await startSubscriptionSync(options.nc, service, { allowPrivate: control.allowPrivate, log: options.log });
  return { service, sync };
}

/** Stops watching the bucket, then every deliverer (their requests in flight finish first). */
export async function stopDelivery(
  started: { service: DeliveryService | undefined; sync: SubscriptionSync | undefined },
  log: DeliveryLog,
): Promise<void> {
  started.sync?.stop();
  await started.service?.stop().catch((err: unknown) => log.error({ err }, "deliverers failed while stopping"));
}

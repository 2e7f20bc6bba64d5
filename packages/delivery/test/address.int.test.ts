import { afterEach, describe, expect, it } from "vitest";
import { isConfigError } from "@tributary/errors";
import { listDeliveryDlq } from "@tributary/streams";
import { Destination, Hub, until } from "./harness.js";

describe("delivery - destination address policy", () => {
  let hub: Hub | undefined;
  let dest: Destination | undefined;
  afterEach(async () => {
    await hub?.close();
    await dest?.close();
    hub = dest = undefined;
  });

  it("M10 - a host name resolving to loopback is refused at connect time (address_refused in the DLQ, no request made), delivered once allow-listed", async () => {
    hub = await Hub.start();
    dest = await Destination.start();
    const url = dest.url.replace("127.0.0.1", "localhost");
    const keys = await hub.publish(3, { prefix: "ssrf" });
    const refused = await hub.deliver(Hub.config({ name: "ssrf", url, allowPrivate: [] }));
    await until(async () => (await hub!.streamCount("DELIVERY_DLQ")) === 3, 20_000, "three DLQ entries");
    expect(dest.received).toHaveLength(0);
    expect(refused.deliverer.stats.addressRefused).toBe(3);
    expect(refused.deliverer.stats.attempts).toBe(3);
    const entries = await listDeliveryDlq(hub.jsm, "ssrf");
    expect(new Set(entries.map((e) => e.eventKey))).toEqual(new Set(keys));
    for (const entry of entries) {
      expect(entry.reason).toMatch(/^address_refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
      expect(entry.status).toBe(0);
    }

    // The same destination, its name allow-listed: delivered.
    const allowed = await hub.deliver(Hub.config({ name: "ssrf-allowed", url, allowPrivate: ["localhost"] }));
    await until(() => dest!.ids().size === 3, 20_000, "three deliveries");
    expect(dest.ids()).toEqual(new Set(keys));
    expect(allowed.deliverer.stats.addressRefused).toBe(0);
  });

  it("M10 - a loopback IP destination does not start without the allow-list (a config error naming the url), and delivers with it", async () => {
    hub = await Hub.start();
    dest = await Destination.start();
    let err: unknown;
    try {
      await hub.deliver(Hub.config({ name: "loop", url: dest.url, allowPrivate: [] }));
    } catch (e) {
      err = e;
    }
    expect(isConfigError(err) && err.field).toBe("destination.url");
    const keys = await hub.publish(2, { prefix: "loop" });
    await hub.deliver(Hub.config({ name: "loop", url: dest.url, allowPrivate: ["127.0.0.1/32"] }));
    await until(() => dest!.ids().size === 2, 20_000, "two deliveries");
    expect(dest.ids()).toEqual(new Set(keys));
  });
});

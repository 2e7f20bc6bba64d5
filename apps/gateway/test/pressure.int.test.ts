import { describe, expect, it } from "vitest";
import { sampleEvent, signWebhook } from "@tributary/testkit";
import { SECRET, startGateway } from "./helpers.js";

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // a stuck handler, a long GC, a CPU-starved container
  }
}

describe("gateway pressure guards", () => {
  it("pressure - a lagging event loop sheds ingest with 503 overloaded and Retry-After; health and stats still answer", async () => {
    const gw = await startGateway({ admission: { maxEventLoopDelayMs: 20 } });
    try {
      const send = async () => {
        const body = sampleEvent();
        const res = await fetch(`${gw.url}/v1/sources/demo/events`, {
          method: "POST",
          headers: signWebhook({ secret: SECRET, body }),
          body,
        });
        return {
          status: res.status,
          retryAfter: res.headers.get("retry-after"),
          json: (await res.json()) as { error?: { code: string } },
        };
      };
      const admitted = async () => {
        let status = 0;
        for (let i = 0; i < 40 && status !== 202; i++) {
          status = (await send()).status;
          if (status !== 202) await new Promise((r) => setTimeout(r, 100));
        }
        return status;
      };
      expect(await admitted()).toBe(202); // start-up itself may have lagged the loop

      // The guard samples the event-loop delay twice a second: stall the loop past a sample.
      blockEventLoop(1200);
      const shed = await send();
      expect(shed.status).toBe(503);
      expect(shed.json.error?.code).toBe("overloaded");
      expect(Number(shed.retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${gw.opsUrl}/v1/stats`)).status).toBe(200); // the operations server is never shed

      // Once the loop keeps up again, ingest is admitted again.
      expect(await admitted()).toBe(202);
    } finally {
      await gw.close();
    }
  });
});

import { createServer, connect, type AddressInfo, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "../src/index.js";

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("tcp proxy", () => {
  let echo: Server;
  let proxy: TcpProxy;
  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    proxy = await startTcpProxy({ port: (echo.address() as AddressInfo).port });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise((r) => echo.close(r));
  });

  it("proxy - forwards bytes both ways", async () => {
    expect(await roundTrip(proxy.port, "hello")).toBe("hello");
  });

  it("proxy - cut drops open connections and refuses new ones; restore lets them through again", async () => {
    const open = connect(proxy.port, "127.0.0.1");
    await new Promise((r) => open.once("connect", r));
    await new Promise((r) => setTimeout(r, 20));
    const closed = new Promise((r) => open.once("close", r));
    proxy.cut();
    await closed;
    expect(await roundTrip(proxy.port, "nope")).toBe("");
    proxy.restore();
    expect(await roundTrip(proxy.port, "again")).toBe("again");
  });
});

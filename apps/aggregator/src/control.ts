import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ControlStore } from "@tributary/control";
import type { ControlConnection } from "@tributary/control-api";
import { connectNats } from "@tributary/streams";
import { SecretUseTracker } from "./secret-uses.js";

/**
 * The management API's own hub connection, as the `control` user (controlPermissions): the routes
 * answer 503 control_unavailable until it is up. Absent login: control is off, nothing connects.
 * It also writes the source secrets' last use that the loader's messages show (`observe`).
 */
export class ControlLink {
  #nc: NatsConnection | undefined;
  #connection: ControlConnection | undefined;
  readonly #secretUses: SecretUseTracker | undefined;
  #log: { warn(obj: object, msg?: string): void } | undefined;

  constructor(
    private readonly login: { user: string; pass: string } | undefined,
    private readonly lastUseEverySeconds: number,
  ) {
    if (login)
      this.#secretUses = new SecretUseTracker(() => this.#connection?.store, {
        warn: (obj, msg) => this.#log?.warn(obj, msg),
      });
  }

  /** For the loader: each hub message it pulls (undefined when control is off). */
  get observe(): ((msg: { headers?: { get(name: string): string } | undefined }) => void) | undefined {
    const uses = this.#secretUses;
    return uses ? (msg) => uses.observe(msg.headers) : undefined;
  }

  get connection(): ControlConnection | undefined {
    return this.#connection;
  }

  /** Connects (retrying until the hub answers) and opens the bucket the provisioning made. */
  async start(servers: string[], log: { warn(obj: object, msg?: string): void }): Promise<void> {
    if (!this.login) return;
    this.#log = log;
    this.#secretUses?.start(this.lastUseEverySeconds * 1000);
    const nc = await connectNats({
      servers,
      name: "tributary-control",
      waitOnFirstConnect: true,
      user: this.login.user,
      pass: this.login.pass,
    });
    this.#nc = nc;
    const js = jetstream(nc);
    this.#connection = { store: await ControlStore.open(js, { writable: true }), js, jsm: await jetstreamManager(nc) };
  }

  async close(): Promise<void> {
    await this.#secretUses?.stop();
    this.#connection = undefined;
    await this.#nc?.close();
  }
}

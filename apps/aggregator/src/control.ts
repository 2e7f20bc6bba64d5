import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ControlStore } from "@tributary/control";
import type { ControlConnection } from "@tributary/control-api";
import { connectNats } from "@tributary/streams";

/**
 * The management API's own hub connection, as the `control` user (controlPermissions): the routes
 * answer 503 control_unavailable until it is up. Absent login: control is off, nothing connects.
 */
export class ControlLink {
  #nc: NatsConnection | undefined;
  #connection: ControlConnection | undefined;

  constructor(private readonly login: { user: string; pass: string } | undefined) {}

  get connection(): ControlConnection | undefined {
    return this.#connection;
  }

  /** Connects (retrying until the hub answers) and opens the bucket the provisioning made. */
  async start(servers: string[]): Promise<void> {
    if (!this.login) return;
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
    this.#connection = undefined;
    await this.#nc?.close();
  }
}

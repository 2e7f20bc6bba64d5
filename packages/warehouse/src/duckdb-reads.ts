import type { DuckDBConnection } from "@duckdb/node-api";
import { WarehouseError } from "./sink.js";

export interface ReadLaneOptions {
  /** Reads waiting behind the running one; beyond it a read is refused at once (warehouse_unavailable). */
  maxWaiting: number;
  /** A read running longer is interrupted and refused (warehouse_unavailable). */
  timeoutMs: number;
}

export const DEFAULT_READ_LANE: ReadLaneOptions = { maxWaiting: 32, timeoutMs: 10_000 };

/**
 * Reads on their own connection, one at a time, with a bounded queue and a deadline. DuckDB reads
 * a consistent snapshot on a second connection while the loader writes on the first, so an operator
 * or API read never holds up an insert; the bound and the deadline keep a burst of reads, or one
 * expensive scan, from piling up memory or holding the connection.
 */
export class ReadLane {
  #running = false;
  readonly #waiting: Array<() => void> = [];

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly options: ReadLaneOptions = DEFAULT_READ_LANE,
  ) {}

  async run<T>(read: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.#running) {
      if (this.#waiting.length >= this.options.maxWaiting)
        throw new WarehouseError("warehouse_unavailable", `${this.options.maxWaiting} reads are already waiting`, {
          details: { limit: "read_queue" },
        });
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#running = true;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.connection.interrupt();
    }, this.options.timeoutMs);
    try {
      return await read(this.connection);
    } catch (err) {
      if (!timedOut) throw err;
      throw new WarehouseError(
        "warehouse_unavailable",
        `the read ran past ${this.options.timeoutMs} ms and was stopped`,
        {
          cause: err,
          details: { limit: "read_timeout" },
        },
      );
    } finally {
      clearTimeout(timer);
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running = false;
    }
  }

  /** Lets the running and queued reads finish, then closes the connection. */
  async close(): Promise<void> {
    while (this.#running) await new Promise((resolve) => setTimeout(resolve, 10));
    this.connection.closeSync();
  }
}

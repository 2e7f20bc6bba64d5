import { Type, type Static } from "@sinclair/typebox";
import {
  isLifecycleStore,
  openWarehouse,
  type LifecycleStore,
  type RetentionPolicy,
  type RetentionSweep,
  type WarehouseReader,
  type WarehouseSink,
} from "@tributary/warehouse";

/**
 * A retention: a count and a unit (`90d`, `12h`, `30m`, `45s`), or `forever`. Four units and one
 * pattern the schema already checks: a duration library would add a dependency for one line.
 */
const Duration = (defaultValue: string, description: string) =>
  Type.String({ pattern: "^(forever|[1-9][0-9]{0,5}[smhd])$", default: defaultValue, description });

export const RetentionConfigSchema = Type.Object(
  {
    events: Duration("90d", "how long event rows are kept after receipt (s, m, h, d, or forever)"),
    deliveries: Duration("30d", "how long delivery log rows are kept after the attempt"),
    rollups: Duration("730d", "how long the stored rollups keep a bucket (counts outlive the rows)"),
    everySeconds: Type.Integer({
      minimum: 1,
      // A Node timer fires at once past 2^31 - 1 ms (about 24.8 days).
      maximum: 2_147_483,
      default: 3600,
      description: "how often expired rows are deleted (ClickHouse with TTL drops them itself)",
    }),
  },
  { additionalProperties: false, default: {} },
);
export type RetentionConfig = Static<typeof RetentionConfigSchema>;

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration of the schema's pattern in seconds; undefined for `forever`. */
export function durationSeconds(text: string): number | undefined {
  if (text === "forever") return undefined;
  return Number(text.slice(0, -1)) * UNIT_SECONDS[text.slice(-1) as keyof typeof UNIT_SECONDS];
}

export function retentionPolicyOf(config: RetentionConfig): RetentionPolicy {
  return {
    events: durationSeconds(config.events),
    deliveries: durationSeconds(config.deliveries),
    rollups: durationSeconds(config.rollups),
  };
}

/** The last pass, for the operator's lifecycle read. */
export interface SweepReport {
  at: string;
  removed?: RetentionSweep;
  error?: string;
}

interface SweepLog {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * Deletes expired rows on a timer, on the sink's writer queue (between batches, never inside one).
 * A failed pass is logged and tried again at the next tick: expired rows waiting a little longer
 * harm nothing.
 */
export class RetentionSweeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #last: SweepReport | undefined;
  #stopped = false;
  #log: SweepLog | undefined;

  constructor(
    private readonly sink: LifecycleStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get last(): SweepReport | undefined {
    return this.#last;
  }

  /** The first pass soon after start (a process restarted after a long stop has a backlog of expired rows). */
  start(everyMs: number, log: SweepLog, firstAfterMs = Math.min(everyMs, 10_000)): void {
    this.#log = log;
    const schedule = (delayMs: number) => {
      this.#timer = setTimeout(() => {
        this.#running = this.sweep().then(() => {
          this.#running = undefined;
          if (!this.#stopped) schedule(everyMs);
        });
      }, delayMs);
      this.#timer.unref();
    };
    schedule(firstAfterMs);
  }

  async sweep(): Promise<SweepReport> {
    const at = this.now();
    try {
      const removed = await this.sink.enforceRetention(at);
      if (removed.events + removed.deliveries + removed.rollups > 0)
        this.#log?.info({ removed }, "retention: expired rows deleted");
      this.#last = { at: at.toISOString(), removed };
    } catch (err) {
      this.#log?.error({ err }, "retention pass failed; tried again at the next one");
      this.#last = { at: at.toISOString(), error: (err as Error).message };
    }
    return this.#last;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}

/**
 * The warehouse opened and migrated with its retention policy (set before migrate: ClickHouse sets
 * its tables' TTLs there), and the sweeper that enforces it; none where the sink has no lifecycle.
 */
export async function openRetainedWarehouse(
  url: string,
  retention: RetentionConfig,
): Promise<{ sink: WarehouseSink & WarehouseReader; sweeper: RetentionSweeper | undefined }> {
  const sink = await openWarehouse(url);
  const lifecycle = isLifecycleStore(sink) ? sink : undefined;
  lifecycle?.setRetention(retentionPolicyOf(retention));
  await sink.migrate();
  return { sink, sweeper: lifecycle ? new RetentionSweeper(lifecycle) : undefined };
}

import { build, type Histogram } from "hdr-histogram-js";

/** Latencies are recorded in microseconds (3 significant digits) and reported in milliseconds. */
export function newHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3 });
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(0, Math.round(ms * 1000)));
}

export function percentileMs(h: Histogram, p: number): number | null {
  if (h.totalCount === 0) return null;
  return h.getValueAtPercentile(p) / 1000;
}

export interface SecondBucket {
  /** Events whose intended send time fell in this second (resends included). */
  offeredEvents: number;
  /** Events acknowledged (202/200) in this second, by completion time. */
  ackedEvents: number;
  /** Ack latency of requests that completed in this second. */
  ack: Histogram;
  /** e2e latency of rows received in this second (filled by the accounting). */
  e2e: Histogram;
}

/** Per-second buckets plus whole-run histograms and answer counts. */
export class Timeline {
  readonly seconds: SecondBucket[] = [];
  readonly ack = newHistogram();
  readonly e2e = newHistogram();
  /** Every HTTP answer (retries included), by status and error code: "202", "503 buffer_unavailable", "network". */
  readonly answers = new Map<string, number>();

  constructor(readonly startMs: number) {}

  bucketAt(epochMs: number): SecondBucket {
    const i = Math.max(0, Math.floor((epochMs - this.startMs) / 1000));
    while (this.seconds.length <= i)
      this.seconds.push({ offeredEvents: 0, ackedEvents: 0, ack: newHistogram(), e2e: newHistogram() });
    return this.seconds[i]!;
  }

  offered(intendedMs: number, events: number): void {
    this.bucketAt(intendedMs).offeredEvents += events;
  }

  answer(label: string): void {
    this.answers.set(label, (this.answers.get(label) ?? 0) + 1);
  }

  acknowledged(doneMs: number, latencyMs: number, events: number): void {
    const bucket = this.bucketAt(doneMs);
    bucket.ackedEvents += events;
    recordMs(bucket.ack, latencyMs);
    recordMs(this.ack, latencyMs);
  }

  loaded(receivedMs: number, e2eMs: number): void {
    recordMs(this.bucketAt(receivedMs).e2e, e2eMs);
    recordMs(this.e2e, e2eMs);
  }

  /** Answers whose label starts with `prefix`: "202", "5" (every 5xx), "network". */
  countOf(prefix: string): number {
    let n = 0;
    for (const [label, count] of this.answers) if (label.startsWith(prefix)) n += count;
    return n;
  }
}

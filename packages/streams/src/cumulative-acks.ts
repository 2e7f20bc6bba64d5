import type { DeliveryInfo, JsMsg, PullOptions } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";

/** How long a settled message may wait for the ack that covers it: acks of one burst go as one. */
export const CUMULATIVE_ACK_DELAY_MS = 20;

/** One message taken from the consumer and not yet covered by an ack. */
interface Entry {
  readonly seq: number;
  /** The delivery sequence of its newest delivery: the server refuses acks below the last one acked. */
  dseq: number;
  /** Its newest delivery (a redelivery replaces the first). */
  msg: JsMsg;
  done: boolean;
  /** An ack sent covers it: it has left the list. */
  covered: boolean;
  /** Delivered more than once: its delivery sequence may be above those of later stream sequences. */
  redelivered: boolean;
}

/**
 * Acks a consumer whose ack policy is `all` (`cumulativeAckConfig`): one ack covers every message
 * below it, so a stage that settles thousands of messages a second sends a few acks instead of
 * one per message (a tenth of nats-server's work per message here, and of the client's). Messages
 * settle in any order; the ack goes out for the newest message below which every message taken is
 * settled, at most CUMULATIVE_ACK_DELAY_MS after it settled.
 *
 * `track` wraps each message as it is taken (in delivery order), and the wrapper's `ack()` and
 * `term()` mark it settled instead of answering the server: under `AckPolicy.All` nats-server
 * treats a term like an ack of everything below it, which must wait for those. `nak()` and
 * `working()` go to the server at once; a handed-back message holds every ack above it until its
 * redelivery settles.
 *
 * Written here because nats.js acks one message at a time: it has no notion of a settled prefix.
 */
export class CumulativeAcks {
  /** Ascending stream sequence. */
  #entries: Entry[] = [];
  #redelivered = 0;
  /** The stream sequence of the last ack sent: everything at or below it is settled. */
  #floor = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #delayMs: number;
  /** Acks sent (for tests and stats). */
  acksSent = 0;

  constructor(opts: { delayMs?: number } = {}) {
    this.#delayMs = opts.delayMs ?? CUMULATIVE_ACK_DELAY_MS;
  }

  /** Messages taken and not yet covered by an ack. */
  get pending(): number {
    return this.#entries.length;
  }

  /** The message to hand on: settling it settles this delivery of it here. */
  track(msg: JsMsg): JsMsg {
    const [seq, dseq, deliveryCount] = deliveryNumbers(msg);
    // A redelivery of a message an ack already covers (it crossed the ack): nothing to hold.
    if (seq <= this.#floor) return msg;
    // Only a redelivery can find its message here already (a first delivery is new by definition).
    let entry = deliveryCount > 1 ? this.#find(seq) : undefined;
    if (entry) {
      entry.msg = msg;
      entry.dseq = dseq;
      entry.done = false;
      if (!entry.redelivered) this.#redelivered++;
      entry.redelivered = true;
    } else {
      entry = { seq, dseq, msg, done: false, covered: false, redelivered: deliveryCount > 1 };
      if (entry.redelivered) this.#redelivered++;
      this.#insert(entry);
    }
    return new TrackedMsg(msg, entry, this);
  }

  /** Sends the ack due now, if any (at a stop, before the connection closes). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const entries = this.#entries;
    let settled = 0;
    while (settled < entries.length && entries[settled]!.done) settled++;
    const last = this.#redelivered === 0 ? settled - 1 : this.#lastSafe(settled);
    if (last < 0) return;
    const acked = entries[last]!;
    acked.msg.ack();
    this.acksSent++;
    this.#floor = acked.seq;
    for (const entry of entries.splice(0, last + 1)) {
      entry.covered = true;
      if (entry.redelivered) this.#redelivered--;
    }
  }

  /** Stops the timer and sends what is due. */
  close(): void {
    this.flush();
  }

  /** @internal (TrackedMsg) */
  settled(entry: Entry): void {
    entry.done = true;
    if (entry.covered) return; // an ack covered it meanwhile (a stale delivery settling late)
    this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
  }

  /** @internal (TrackedMsg) */
  handedBack(entry: Entry): void {
    entry.done = false;
  }

  /**
   * The last of the first `settled` entries that may be acked: one whose delivery sequence is below
   * that of every entry after it. Acking a redelivery with a later delivery sequence than a message
   * still pending above it would make the server ignore that message's ack, leaving it to be
   * redelivered after its ack wait.
   */
  #lastSafe(settled: number): number {
    const entries = this.#entries;
    let minAfter = Infinity;
    for (let i = entries.length - 1; i >= settled; i--) minAfter = Math.min(minAfter, entries[i]!.dseq);
    let candidate = -1;
    const minFrom: number[] = new Array<number>(settled);
    for (let i = settled - 1; i >= 0; i--) {
      minFrom[i] = minAfter;
      minAfter = Math.min(minAfter, entries[i]!.dseq);
    }
    for (let i = settled - 1; i >= 0 && candidate < 0; i--) if (entries[i]!.dseq < minFrom[i]!) candidate = i;
    return candidate;
  }

  #insert(entry: Entry): void {
    const entries = this.#entries;
    if (entries.length === 0 || entries[entries.length - 1]!.seq < entry.seq) entries.push(entry);
    // Out of order: a redelivery of a message dropped from a client buffer before it was taken. Rare.
    else entries.splice(this.#position(entry.seq), 0, entry);
  }

  #find(seq: number): Entry | undefined {
    const entry = this.#entries[this.#position(seq)];
    return entry?.seq === seq ? entry : undefined;
  }

  /** The index of the first entry whose stream sequence is at least `seq` (binary search). */
  #position(seq: number): number {
    const entries = this.#entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** nats.js's own message under a JsMsg: the ack subject's bytes, before it decodes them. */
interface NatsWire {
  msg?: { _msg?: { reply?: unknown } };
}

const DOT = 0x2e;

/**
 * [stream sequence, delivery sequence, delivery count] of a delivery, read from its ack subject's
 * bytes: `msg.info` decodes the subject to a string and splits it, a tenth of the stage's thread's
 * time per message here. The bytes are nats.js internals; without them, `msg.info`.
 */
function deliveryNumbers(msg: JsMsg): [number, number, number] {
  const reply = (msg as unknown as NatsWire).msg?._msg?.reply;
  if (!(reply instanceof Uint8Array)) {
    const { streamSequence, deliverySequence, deliveryCount } = msg.info;
    return [streamSequence, deliverySequence, deliveryCount];
  }
  // $JS.ACK.<domain>.<account>.<stream>.<consumer>.<count>.<seq>.<dseq>.<ts>.<pending>[.<token>],
  // or the older $JS.ACK.<stream>.<consumer>.<count>.<seq>.<dseq>.<ts>.<pending>.
  const dots: number[] = [];
  for (let i = 0; i < reply.length; i++) if (reply[i] === DOT) dots.push(i);
  if (dots.length < 8) {
    const { streamSequence, deliverySequence, deliveryCount } = msg.info;
    return [streamSequence, deliverySequence, deliveryCount];
  }
  const count = dots.length === 8 ? 4 : 6; // the token that holds <count>
  const token = (k: number) => {
    let n = 0;
    for (let i = dots[k - 1]! + 1; i < dots[k]!; i++) n = n * 10 + reply[i]! - 48;
    return n;
  };
  return [token(count + 1), token(count + 2), token(count)];
}

/** A delivery whose ack and term settle it in CumulativeAcks; everything else is the delivery's own. */
class TrackedMsg implements JsMsg {
  constructor(
    /** The delivery as nats.js made it (trackedDelivery reads it back). */
    readonly delivery: JsMsg,
    private readonly entry: Entry,
    private readonly acks: CumulativeAcks,
  ) {}

  get redelivered(): boolean {
    return this.delivery.redelivered;
  }
  get info(): DeliveryInfo {
    return this.delivery.info;
  }
  get seq(): number {
    return this.delivery.seq;
  }
  get headers(): MsgHdrs | undefined {
    return this.delivery.headers;
  }
  get data(): Uint8Array {
    return this.delivery.data;
  }
  get subject(): string {
    return this.delivery.subject;
  }
  get sid(): number {
    return this.delivery.sid;
  }
  get time(): Date {
    return this.delivery.time;
  }
  get timestamp(): string {
    return this.delivery.timestamp;
  }
  get timestampNanos(): bigint {
    return this.delivery.timestampNanos;
  }
  ack(): void {
    this.acks.settled(this.entry);
  }
  /** Settled like an ack (the server's term advisory and its reason are not sent). */
  term(): void {
    this.acks.settled(this.entry);
  }
  nak(millis?: number): void {
    this.acks.handedBack(this.entry);
    this.delivery.nak(millis);
  }
  working(): void {
    this.delivery.working();
  }
  next(subj: string, ro?: Partial<PullOptions>): void {
    this.delivery.next(subj, ro);
  }
  /** Settles it; false: the ack that covers it goes out later, unconfirmed. */
  ackAck(): Promise<boolean> {
    this.acks.settled(this.entry);
    return Promise.resolve(false);
  }
  json<T>(): T {
    return this.delivery.json<T>();
  }
  string(): string {
    return this.delivery.string();
  }
}

/** The delivery nats.js made under a message `CumulativeAcks.track` wrapped (the message itself otherwise). */
export function trackedDelivery(msg: JsMsg): JsMsg {
  return msg instanceof TrackedMsg ? msg.delivery : msg;
}

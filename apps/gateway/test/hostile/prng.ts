/**
 * A small deterministic PRNG (mulberry32): the same starting state gives the same sequence of
 * requests on every machine, so a failing run can be repeated exactly.
 */
export class Prng {
  #state: number;

  constructor(start: number) {
    this.#state = start >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One of `options`, chosen in proportion to its weight. */
  weighted<T>(options: ReadonlyArray<readonly [T, number]>): T {
    const total = options.reduce((sum, [, w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [value, weight] of options) {
      at -= weight;
      if (at < 0) return value;
    }
    return options[options.length - 1]![0];
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** `n` characters drawn from `alphabet`. */
  text(n: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

/** The starting state of this run: HOSTILE_PRNG (decimal or 0x hex) to repeat a run, else a fixed default. */
export function prngStart(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.HOSTILE_PRNG;
  if (given === undefined || given === "") return 0x7e1b_0a57;
  const value = Number(given);
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff)
    throw new Error(`HOSTILE_PRNG=${given} is not an integer in [0, 2^32)`);
  return value;
}

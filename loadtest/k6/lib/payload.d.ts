// Types of payload.js for the TypeScript driver (src/); payload.js itself is checked by k6/tsconfig.json.
export interface MixEntry {
  type: string;
  weight: number;
  bytes: number;
}
export function prng(seed: number): () => number;
export function pickType(mix: readonly MixEntry[], r: number): MixEntry;
export function makeEvent(input: {
  type: string;
  id: string;
  seq: number;
  run: string;
  bytes: number;
  now: Date;
}): string;

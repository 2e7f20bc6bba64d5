// Fixtures sign with node:crypto directly, never with the code under test, so a bug in the
// package cannot sign and verify its own mistake.
import { createHmac } from 'node:crypto';
import type { SourceSecret, VerifyContext } from '../src/index.js';

export const NOW = 1_779_114_720; // 2026-05-18T14:32:00Z
export const CURRENT: SourceSecret = { id: 'current', key: Buffer.from('whsec-current-0123456789abcdef') };
export const PREVIOUS: SourceSecret = { id: 'previous', key: Buffer.from('whsec-previous-0123456789abcdef') };
export const BODY = Buffer.from(
  '{"event":"link.clicked","timestamp":"2026-05-18T14:32:00.000Z","data":{"prefix":"promo","token":"summer-sale"}}',
);

export function ctx(overrides: Partial<VerifyContext> = {}): VerifyContext {
  return { secrets: [CURRENT], toleranceSeconds: 300, nowSeconds: NOW, ...overrides };
}

/** The seeds' scheme: hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function signTimestamped(key: Buffer, timestamp: string, body: Buffer): string {
  return createHmac('sha256', key).update(`${timestamp}.`).update(body).digest('hex');
}

/** The older receiver: hex HMAC-SHA256 of the body alone. */
export function signBody(key: Buffer, body: Buffer): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

/** Flips the lowest bit of one character of a hex string, keeping it hex. */
export function flipHex(hex: string, index: number): string {
  const digit = parseInt(hex.charAt(index), 16) ^ 1;
  return hex.slice(0, index) + digit.toString(16) + hex.slice(index + 1);
}

export function flipByte(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

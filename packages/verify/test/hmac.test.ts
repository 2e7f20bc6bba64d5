import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findMatchingSecret, parseHexSha256 } from '../src/hmac.js';

const secrets = ['a', 'b', 'c'].map((id) => ({ id, key: Buffer.from(`key-${id}`) }));
const mac = (key: Buffer) => createHmac('sha256', key).update('payload').digest();

describe('findMatchingSecret', () => {
  it('rotation - every secret is hashed and compared even when the first one matches', () => {
    const seen: string[] = [];
    const first = secrets[0];
    if (first === undefined) throw new Error('fixture');
    const matched = findMatchingSecret(secrets, mac(first.key), (key) => {
      seen.push(key.toString());
      return mac(key);
    });
    expect(matched?.id).toBe('a');
    expect(seen).toEqual(['key-a', 'key-b', 'key-c']);
  });

  it('rotation - a candidate of the wrong length is a mismatch, not a throw', () => {
    expect(findMatchingSecret(secrets, Buffer.alloc(16), mac)).toBeNull();
  });
});

describe('parseHexSha256', () => {
  it('format - exactly 64 hex digits decode to 32 bytes, anything else is null', () => {
    expect(parseHexSha256('Ab'.repeat(32))?.length).toBe(32);
    expect(parseHexSha256('ab'.repeat(32) + 'a')).toBeNull();
    expect(parseHexSha256('ab'.repeat(31) + 'ag')).toBeNull();
    expect(parseHexSha256('')).toBeNull();
  });
});

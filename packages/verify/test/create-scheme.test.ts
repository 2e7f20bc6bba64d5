import { describe, expect, it } from 'vitest';
import { SCHEME_TYPES, SchemeConfigError, createScheme, isSchemeConfigError } from '../src/index.js';
import type { SchemeConfig } from '../src/index.js';

function configError(config: unknown): SchemeConfigError {
  try {
    createScheme(config as SchemeConfig);
  } catch (err) {
    if (isSchemeConfigError(err)) return err;
    throw err;
  }
  throw new Error('expected createScheme to throw');
}

describe('createScheme', () => {
  it('config - builds each known scheme type', () => {
    for (const type of SCHEME_TYPES) {
      expect(createScheme({ type } as SchemeConfig).name).toBe(type);
    }
    expect(SCHEME_TYPES).toEqual(['webhook-hmac-sha256', 'hmac-sha256-body']);
  });

  it('config - an unknown type names the type field', () => {
    const err = configError({ type: 'stripe' });
    expect(err).toBeInstanceOf(SchemeConfigError);
    expect(err.name).toBe('SchemeConfigError');
    expect(err.field).toBe('type');
    expect(err.message).toContain('webhook-hmac-sha256');
  });

  it('config - a non-object config is refused', () => {
    expect(configError(null).field).toBe('config');
    expect(configError('webhook-hmac-sha256').field).toBe('config');
    expect(configError([]).field).toBe('config');
  });

  it('config - an unknown option names itself, so typos never fall back to defaults', () => {
    expect(configError({ type: 'webhook-hmac-sha256', signatureHedaer: 'x-sig' }).field).toBe('signatureHedaer');
  });

  it('config - an option of another scheme is refused', () => {
    expect(configError({ type: 'hmac-sha256-body', timestampHeader: 'x-ts' }).field).toBe('timestampHeader');
  });

  it('config - header names must be HTTP tokens', () => {
    expect(configError({ signatureHeader: '' }).field).toBe('signatureHeader');
    expect(configError({ signatureHeader: 'x sig' }).field).toBe('signatureHeader');
    expect(configError({ timestampHeader: 'x-ts:' }).field).toBe('timestampHeader');
    expect(configError({ idHeader: 42 }).field).toBe('idHeader');
    expect(configError({ signatureHeader: 'x'.repeat(129) }).field).toBe('signatureHeader');
  });

  it('config - only idHeader may be null', () => {
    expect(configError({ signatureHeader: null }).field).toBe('signatureHeader');
    expect(createScheme({ idHeader: null }).name).toBe('webhook-hmac-sha256');
  });

  it('config - two options naming the same header (any case) are refused', () => {
    const err = configError({ signatureHeader: 'X-Sig', timestampHeader: 'x-sig' });
    expect(err.field).toBe('timestampHeader');
    expect(configError({ type: 'hmac-sha256-body', idHeader: 'X-Webhook-Signature' }).field).toBe('idHeader');
  });
});

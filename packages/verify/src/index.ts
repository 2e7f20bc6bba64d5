export {
  DEFAULT_SCHEME_TYPE,
  SCHEME_TYPES,
  createScheme,
} from './create-scheme.js';
export type {
  HmacSha256BodyConfig,
  SchemeConfig,
  SchemeType,
  WebhookHmacSha256Config,
} from './create-scheme.js';
export { VERIFY_FAILURE_CODES, isVerifyFailureCode } from './codes.js';
export type { VerifyFailureCode } from './codes.js';
export { SchemeConfigError, isSchemeConfigError } from './errors.js';
export { MAX_HEADER_LENGTH } from './headers.js';
export { DEFAULT_TOLERANCE_SECONDS } from './timestamp.js';
export type {
  HeaderValue,
  SignatureScheme,
  SourceSecret,
  VerifyContext,
  VerifyRequest,
  VerifyResult,
} from './types.js';

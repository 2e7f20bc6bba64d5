export { DEFAULT_SCHEME_TYPE, SCHEME_TYPES, createScheme, isSchemeType } from "./create-scheme.js";
export type {
  GenericHmacConfig,
  GithubConfig,
  HmacSha256BodyConfig,
  SchemeConfig,
  SchemeType,
  ShopifyConfig,
  StandardWebhooksConfig,
  StripeConfig,
  SvixConfig,
  WebhookHmacSha256Config,
} from "./create-scheme.js";
export { VERIFY_FAILURE_CODES, isVerifyFailureCode } from "./codes.js";
export type { VerifyFailure, VerifyFailureCode } from "./codes.js";
export { MAX_HEADER_LENGTH } from "./headers.js";
export { ED25519_PRIVATE_KEY_PREFIX, ED25519_PUBLIC_KEY_PREFIX, HMAC_SECRET_PREFIX, decodeSecret } from "./secrets.js";
export type { DecodedSecret } from "./secrets.js";
export { HMAC_ALGORITHMS, SIGNATURE_ENCODINGS } from "./schemes/generic-hmac.js";
export type { HmacAlgorithm, SignatureEncoding } from "./schemes/generic-hmac.js";
export { MAX_ED25519_SIGNATURES, MAX_SIGNATURES } from "./signature-list.js";
export { DEFAULT_TOLERANCE_SECONDS } from "./timestamp.js";
export type {
  DeliveryIdSource,
  HeaderValue,
  SecretKind,
  SignatureScheme,
  SourceSecret,
  VerifyContext,
  VerifyRequest,
  VerifyResult,
} from "./types.js";
export { MIN_SIGNING_SECRET_BYTES, signStandardWebhooks, standardWebhooksSigningKey } from "./sign.js";
export type { SigningKey, StandardWebhooksHeaders, StandardWebhooksSignInput } from "./sign.js";

// Published test vectors of the Standard Webhooks reference libraries, copied verbatim.
//
// Source: github.com/standard-webhooks/standard-webhooks
// - v1 (HMAC-SHA256): the "sign function works" / TestSymmetricWebhookSign vector, identical in
//   libraries/javascript/src/webhook.test.ts (commit 10d3e46d720c4e5861a792bec25792a04ad4e2b3),
//   libraries/python/tests/test_webhooks.py (33d368b20c5543357f4f27fd13bed0703b8c5204) and
//   libraries/go/webhook_symmetric_test.go (3ac24afe352b5989ddf44d4b4cd4f08bdfa2c2e4); the
//   wrong signatures are those files' "invalid signature" cases.
// - v1a (Ed25519): TestAsymmetricWebhookSign in libraries/go/webhook_asymmetric_test.go
//   (5fb2ce9369bd9533ed635c0c84f8d7b0dac3a5bf). The Go test gives the private key as a base64
//   32-byte seed (it is the ASCII text "TESTSIGNINGKEYDONOTUSETHISFORANY"); the receiver needs the
//   public key, which the test derives from the seed with node:crypto.

export const VECTOR_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
export const VECTOR_TIMESTAMP = 1614265330;
export const VECTOR_PAYLOAD = '{"test": 2432232314}';

export const V1_VECTOR = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
} as const;

/** Signatures the reference tests expect to be refused for the same message. */
export const V1_WRONG_SIGNATURES = [
  "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", // python: last character changed
  "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", // go/js: another message's signature
  "v1,dawfeoifkpqwoekfpqoekf", // js: not a 32-byte base64 value
  "v1,", // js: partial
] as const;

/** The other entries of the reference "multi sig payload is valid" case; the valid one is added. */
export const MULTI_SIG_DECOYS = [
  "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
  "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
] as const;

export const V1A_VECTOR = {
  /** Base64 of the 32-byte Ed25519 seed (the private key, `whsk_` without its prefix). */
  privateSeed: "VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
  signature: "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==",
} as const;

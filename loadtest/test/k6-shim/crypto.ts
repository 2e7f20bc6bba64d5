// k6/crypto under Node, for the contract test: the two functions the script uses, same signatures.
import { createHash, createHmac } from "node:crypto";

type Encoding = "hex" | "base64";

function hmac(algorithm: string, secret: string, data: string, outputEncoding: Encoding): string {
  return createHmac(algorithm, secret).update(data).digest(outputEncoding);
}

function sha256(input: string, outputEncoding: Encoding): string {
  return createHash("sha256").update(input).digest(outputEncoding);
}

export default { hmac, sha256 };
export { hmac, sha256 };

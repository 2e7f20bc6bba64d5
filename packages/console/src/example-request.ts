import type { Source } from "./api/client";

/**
 * A copy-paste request signed for a source: a shell script that builds a sample body, signs it
 * the way the source's scheme verifies (packages/verify) with `openssl`, and POSTs it with `curl`
 * to a gateway. The console never has a source's secret after it was made, so the script reads it
 * from `$SECRET`, and the gateway's address from `$GATEWAY_URL` (a region's ingest URL).
 */

type Scheme = Source["scheme"];

/** How a scheme signs: what it covers, with which key and encoding, and where each piece goes. */
interface Recipe {
  summary: string;
  /** The signed content as a shell string over $ID, $TS and $BODY. */
  content: string;
  /** "whsec": the key is the base64 after `whsec_` (Standard Webhooks); "text": the secret's UTF-8 bytes. */
  key: "whsec" | "text";
  algorithm: "sha256" | "sha512";
  encoding: "hex" | "base64";
  /** Headers as [name, shell value]; $SIG is the encoded MAC. */
  headers: Array<[string, string]>;
  /** The sample body, a printf format over $ID and $TS (in this order). */
  body: string;
}

const LINK_BODY = '{"event_id":"evt_%s","type":"link.clicked","occurred_at":%s,"data":{"link_id":"lnk_example"}}';

function standardWebhooks(scheme: Scheme, prefix: "webhook" | "svix"): Recipe {
  return {
    summary: `${prefix}-signature: v1,<base64 HMAC-SHA256 of "$ID.$TS.$BODY">, the key being the base64 after whsec_ in the secret`,
    content: "$ID.$TS.$BODY",
    key: "whsec",
    algorithm: "sha256",
    encoding: "base64",
    headers: [
      [scheme.idHeader ?? `${prefix}-id`, "$ID"],
      [scheme.timestampHeader ?? `${prefix}-timestamp`, "$TS"],
      [scheme.signatureHeader ?? `${prefix}-signature`, "v1,$SIG"],
    ],
    body: '{"type":"link.clicked","event_id":"%s","timestamp":%s,"data":{"link_id":"lnk_example"}}',
  };
}

/** The generic `hmac` scheme: its signedContent template, algorithm, encoding and prefix. */
function genericHmac(scheme: Scheme): Recipe {
  const template = scheme.signedContent ?? (scheme.timestampHeader ? "{timestamp}.{body}" : "{body}");
  const headers: Array<[string, string]> = [[scheme.signatureHeader ?? "x-signature", `${scheme.prefix ?? ""}$SIG`]];
  if (scheme.timestampHeader) headers.push([scheme.timestampHeader, "$TS"]);
  if (scheme.idHeader) headers.push([scheme.idHeader, "$ID"]);
  const algorithm = scheme.algorithm ?? "sha256";
  const encoding = scheme.encoding ?? "hex";
  return {
    summary: `${headers[0]![0]}: ${scheme.prefix ?? ""}<${encoding} HMAC-${algorithm.toUpperCase()} of "${template}">, the secret as typed`,
    content: template
      .replace(/\{id\}/g, "$ID")
      .replace(/\{timestamp\}/g, "$TS")
      .replace(/\{body\}/g, "$BODY"),
    key: "text",
    algorithm,
    encoding,
    headers,
    body: LINK_BODY,
  };
}

function typed(
  summary: string,
  content: string,
  encoding: "hex" | "base64",
  headers: Array<[string, string]>,
  body: string,
): Recipe {
  return { summary, content, key: "text", algorithm: "sha256", encoding, headers, body };
}

/** The recipe of a source's scheme, with its header names as the source configures them. */
export function recipeOf(source: Pick<Source, "scheme" | "eventTypeHeader">): Recipe {
  const s = source.scheme;
  const typeHeader = (fallback: string) =>
    source.eventTypeHeader === null ? undefined : (source.eventTypeHeader ?? fallback);
  switch (s.type) {
    case "standard-webhooks":
      return standardWebhooks(s, "webhook");
    case "svix":
      return standardWebhooks(s, "svix");
    case "stripe":
      return typed(
        'stripe-signature: t=$TS,v1=<hex HMAC-SHA256 of "$TS.$BODY">, the whole whsec_… secret as typed (not decoded)',
        "$TS.$BODY",
        "hex",
        [[s.signatureHeader ?? "stripe-signature", "t=$TS,v1=$SIG"]],
        '{"id":"evt_%s","object":"event","type":"payment_intent.succeeded","created":%s,"data":{"object":{}}}',
      );
    case "github": {
      const t = typeHeader("x-github-event");
      return typed(
        "x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>, the secret as typed; no timestamp",
        "$BODY",
        "hex",
        [[s.signatureHeader ?? "x-hub-signature-256", "sha256=$SIG"], ...(t ? [[t, "ping"] as [string, string]] : [])],
        '{"zen":"Design for failure.","hook_id":"%s","sent_at":%s}',
      );
    }
    case "shopify": {
      const t = typeHeader("x-shopify-topic");
      return typed(
        "x-shopify-hmac-sha256: <base64 HMAC-SHA256 of the body>, the secret as typed; no timestamp",
        "$BODY",
        "base64",
        [
          [s.signatureHeader ?? "x-shopify-hmac-sha256", "$SIG"],
          ...(t ? [[t, "orders/create"] as [string, string]] : []),
        ],
        '{"id":"%s","created_at":%s,"total_price":"9.99"}',
      );
    }
    case "hmac-sha256-body":
      return typed(
        "x-webhook-signature: <hex HMAC-SHA256 of the body>, the secret as typed; no timestamp",
        "$BODY",
        "hex",
        [[s.signatureHeader ?? "x-webhook-signature", "$SIG"]],
        LINK_BODY,
      );
    case "hmac":
      return genericHmac(s);
    default:
      return typed(
        'x-webhook-signature: <hex HMAC-SHA256 of "$TS.$BODY">, x-webhook-timestamp: $TS, the secret as typed',
        "$TS.$BODY",
        "hex",
        [
          [s.signatureHeader ?? "x-webhook-signature", "$SIG"],
          [s.timestampHeader ?? "x-webhook-timestamp", "$TS"],
        ],
        LINK_BODY,
      );
  }
}

/** The `openssl` line that computes $SIG from the content, the key and the encoding. */
function signLine(r: Recipe): string[] {
  const out = r.encoding === "hex" ? "| sed 's/^.*= //'" : "-binary | openssl base64 -A";
  if (r.key === "whsec")
    return [
      `KEY=$(printf '%s' "\${SECRET#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \\n')`,
      `SIG=$(printf '%s' "${r.content}" | openssl dgst -${r.algorithm} -mac HMAC -macopt "hexkey:$KEY" ${out})`,
    ];
  return [`SIG=$(printf '%s' "${r.content}" | openssl dgst -${r.algorithm} -hmac "$SECRET" ${out})`];
}

/** The script: sample body, signature, curl. Runs in bash or sh with openssl, od and curl. */
export function exampleRequest(source: Pick<Source, "id" | "scheme" | "eventTypeHeader">): string {
  const r = recipeOf(source);
  const headers = [["content-type", "application/json"] as [string, string], ...r.headers];
  return [
    `# ${source.id} (${source.scheme.type}): ${r.summary}`,
    "# Set SECRET (the source's secret, shown once when it was made) and GATEWAY_URL (a region's gateway) first.",
    "ID=$(openssl rand -hex 8)",
    "TS=$(date +%s)",
    `BODY=$(printf '${r.body}' "$ID" "$TS")`,
    ...signLine(r),
    `curl -sS -X POST "$GATEWAY_URL/v1/sources/${source.id}/events" \\`,
    ...headers.map(([name, value]) => `  -H "${name}: ${value}" \\`),
    '  --data-binary "$BODY"',
  ].join("\n");
}

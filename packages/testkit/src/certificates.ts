import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface TestCertificates {
  /** The test CA's certificate (what `ca_file` and clients trust). */
  caFile: string;
  /** A certificate for 127.0.0.1 and localhost, for servers and as a client certificate (mutual TLS). */
  certFile: string;
  keyFile: string;
  /** A second CA and a certificate it signed: a peer the servers must refuse. */
  stranger: { caFile: string; certFile: string; keyFile: string };
}

/** A CA, and a certificate for 127.0.0.1 it signed, made by the real openssl (what cert-manager would issue). */
async function ca(dir: string, name: string): Promise<{ caFile: string; caKey: string }> {
  const caFile = join(dir, `${name}-ca.crt`);
  const caKey = join(dir, `${name}-ca.key`);
  await run("openssl", [
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "1",
    "-subj",
    `/CN=tributary ${name} test CA`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { caFile, caKey };
}

async function leaf(dir: string, name: string, signer: { caFile: string; caKey: string }) {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n",
  );
  await run("openssl", ["req", ...EC_KEY, "-keyout", keyFile, "-out", csr, "-subj", `/CN=${name}`]);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    signer.caFile,
    "-CAkey",
    signer.caKey,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "1",
    "-extfile",
    ext,
  ]);
  return { certFile, keyFile };
}

/**
 * A test CA with a certificate for 127.0.0.1 and localhost (server and client use, for mutual TLS),
 * and a stranger CA with its own such certificate: what TLS tests hand nats-server and clients.
 * Made by the real openssl; everything lands in `dir` (the caller removes it).
 */
export async function testCertificates(dir: string): Promise<TestCertificates> {
  const mine = await ca(dir, "tributary");
  const other = await ca(dir, "stranger");
  return {
    caFile: mine.caFile,
    ...(await leaf(dir, "server", mine)),
    stranger: { caFile: other.caFile, ...(await leaf(dir, "stranger", other)) },
  };
}

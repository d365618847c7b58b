// Throwaway PKI for the tests, made with the openssl CLI: a CA, a spoke server certificate for
// 127.0.0.1/localhost and a hub client certificate. EC P-256 keys keep generation fast.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync(process.env.OPENSSL ?? "openssl", args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args.join(" ")} failed: ${stderr || String(err)}`);
  }
}

function issue(dir: string, name: string, subject: string, extensions: string): void {
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
  openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
}

/** Creates the CA and both leaf certificates under `dir`. */
export function createTestPki(dir: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-subj",
      "/CN=hubspoke test CA",
      "-days",
      "2",
      "-sha256",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.crt",
    ],
    dir,
  );
  issue(
    dir,
    "spoke",
    "/CN=spoke-prometheus",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  issue(
    dir,
    "hub",
    "/CN=hub-prometheus",
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  return {
    dir,
    caCert: path.join(dir, "ca.crt"),
    serverCert: path.join(dir, "spoke.crt"),
    serverKey: path.join(dir, "spoke.key"),
    clientCert: path.join(dir, "hub.crt"),
    clientKey: path.join(dir, "hub.key"),
  };
}

// ---- Certificates made like the stack's (components/pki: RSA 2048, O=hubspoke, the same uses) ----

export interface CertFiles {
  cert: string;
  key: string;
}

/** A self-signed CA as CertificateAuthority makes it: CA:TRUE, cert and CRL signing. */
export function createStackLikeCa(dir: string, name: string, commonName: string): CertFiles {
  fs.mkdirSync(dir, { recursive: true });
  openssl(["genrsa", "-traditional", "-out", `${name}.key`, "2048"], dir);
  openssl(
    [
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      `/CN=${commonName}/O=hubspoke`,
      "-days",
      "2",
      "-sha256",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** A certificate as IssuedCertificate makes it: digital signature, key encipherment, one use. */
export function issueStackLikeCert(
  dir: string,
  ca: CertFiles,
  name: string,
  options: { commonName: string; use: "server" | "client"; dnsNames?: readonly string[] },
): CertFiles {
  const names = (options.dnsNames ?? []).map((n) => `DNS:${n}`);
  fs.writeFileSync(
    path.join(dir, `${name}.ext`),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      `extendedKeyUsage=${options.use === "server" ? "serverAuth" : "clientAuth"}\n` +
      (names.length > 0 ? `subjectAltName=${names.join(",")}\n` : ""),
  );
  openssl(["genrsa", "-traditional", "-out", `${name}.key`, "2048"], dir);
  openssl(
    [
      "req",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      `/CN=${options.commonName}/O=hubspoke`,
      "-out",
      `${name}.csr`,
    ],
    dir,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

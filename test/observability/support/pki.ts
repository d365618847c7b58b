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
    execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
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

// Certificate authorities and certificates issued by them, with @pulumi/tls. Every private key is
// a secret output; CAs can be protected because replacing one invalidates what it signed.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** RSA keeps every consumer happy: authn-k8s signs client certificates with its CA key as RSA. */
const KEY_ALGORITHM = "RSA";
const KEY_BITS = 2048;
export const ORGANIZATION = "hubspoke";

export type CertificateUse = "server" | "client" | "server-and-client";

const USES: Readonly<Record<CertificateUse, string[]>> = {
  server: ["digital_signature", "key_encipherment", "server_auth"],
  client: ["digital_signature", "key_encipherment", "client_auth"],
  "server-and-client": ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
};

export interface Validity {
  readonly validityHours: number;
  readonly earlyRenewalHours: number;
}

export interface CertificateAuthorityArgs {
  /** Subject common name of the CA. */
  readonly commonName: string;
  /** Lifetime of the CA certificate. */
  readonly validityHours: number;
  /** Protect key and certificate from deletion (prod): replacing a CA breaks every chain under it. */
  readonly protect: boolean;
}

/** What issues certificates: a CA's certificate and its private key (secret). */
export interface Authority {
  readonly certPem: pulumi.Output<string>;
  readonly keyPem: pulumi.Output<string>;
}

/** A self-signed CA: `CA:TRUE`, cert and CRL signing, as authn-k8s and the TLS channels need. */
export class CertificateAuthority extends pulumi.ComponentResource implements Authority {
  public readonly certPem: pulumi.Output<string>;
  /** The CA's private key (secret). */
  public readonly keyPem: pulumi.Output<string>;

  constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:pki:CertificateAuthority", name, {}, opts);
    const childOpts = { parent: this, protect: args.protect };
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: KEY_ALGORITHM, rsaBits: KEY_BITS }, childOpts);
    const cert = new tls.SelfSignedCert(
      `${name}-cert`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: args.commonName, organization: ORGANIZATION },
        isCaCertificate: true,
        validityPeriodHours: args.validityHours,
        // No early renewal: a CA is renewed deliberately (see docs/operations.md), never by a routine `up`.
        earlyRenewalHours: 0,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      },
      childOpts,
    );
    this.certPem = cert.certPem;
    this.keyPem = pulumi.secret(key.privateKeyPem);
    this.registerOutputs({ certPem: this.certPem, keyPem: this.keyPem });
  }
}

export interface IssuedCertificateArgs {
  readonly ca: Authority;
  readonly commonName: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly use: CertificateUse;
  readonly validity: Validity;
}

/** A key and a certificate signed by one of the estate's CAs. */
export class IssuedCertificate extends pulumi.ComponentResource {
  public readonly certPem: pulumi.Output<string>;
  /** The private key (secret). */
  public readonly keyPem: pulumi.Output<string>;
  /** The issuing CA's certificate, for chains and trust bundles. */
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: IssuedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:pki:IssuedCertificate", name, {}, opts);
    const childOpts = { parent: this };
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: KEY_ALGORITHM, rsaBits: KEY_BITS }, childOpts);
    const request = new tls.CertRequest(
      `${name}-csr`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: args.commonName, organization: ORGANIZATION },
        dnsNames: args.dnsNames ? [...args.dnsNames] : [],
        ipAddresses: args.ipAddresses ? [...args.ipAddresses] : [],
      },
      childOpts,
    );
    const cert = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: request.certRequestPem,
        caPrivateKeyPem: args.ca.keyPem,
        caCertPem: args.ca.certPem,
        validityPeriodHours: args.validity.validityHours,
        earlyRenewalHours: args.validity.earlyRenewalHours,
        allowedUses: USES[args.use],
      },
      childOpts,
    );
    this.certPem = cert.certPem;
    this.keyPem = pulumi.secret(key.privateKeyPem);
    this.caCertPem = args.ca.certPem;
    this.registerOutputs({ certPem: this.certPem, keyPem: this.keyPem });
  }
}

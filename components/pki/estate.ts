// The estate's trust material, derived from the spec: one root CA, one CA per authn-k8s
// authenticator, and the certificates of every TLS channel (primary, followers, Postgres, metrics
// federation and log forwarding). Names are stable per role and per spoke, so adding a spoke
// creates new certificates and touches none of the existing ones.
import * as pulumi from "@pulumi/pulumi";
import { conjurServerInHub, convertedSpokes, StackSpec, SpokeSpec } from "../../stacks/spec";
import {
  CONJUR_NAMESPACE,
  HUB_AUTHENTICATOR_ID,
  LOGGING_NAMESPACE,
  LOG_SINK_SERVICE,
  MONITORING_NAMESPACE,
  POSTGRES_SERVICE,
  PRIMARY_EXTERNAL_SERVICE,
  PRIMARY_SERVICE,
  PROMETHEUS_SERVICE,
  serviceDnsNames,
} from "../naming";
import { Authority, CertificateAuthority, IssuedCertificate, Validity } from "./certificates";

export interface SpokeTrust {
  /**
   * CA of the spoke's authn-k8s authenticator (its cert and key go into Conjur variables). Enterprise
   * only: the spoke's follower serves authn-k8s there; with Open Source the spoke uses authn-jwt.
   */
  readonly authenticatorCa?: CertificateAuthority;
  /** The spoke Prometheus' server certificate, presented to the hub's federation scrape. */
  readonly prometheusServer: IssuedCertificate;
  /** Fluent Bit's client certificate for forwarding to the hub's log sink. */
  readonly logForwarderClient: IssuedCertificate;
  /** The spoke Prometheus' client certificate for scraping itself (its API requires one). */
  readonly prometheusSelfClient: IssuedCertificate;
}

export interface EstatePkiArgs {
  /** The validated stack spec; only converted spokes get certificates. */
  readonly spec: StackSpec;
}

export class EstatePki extends pulumi.ComponentResource implements SpokePki {
  public readonly rootCa: CertificateAuthority;
  /** CA of authn-k8s/hub, when a Conjur server runs in the hub cluster. */
  public readonly hubAuthenticatorCa?: CertificateAuthority;
  public readonly primaryServer: IssuedCertificate;
  public readonly postgresServer: IssuedCertificate;
  /** Client certificate the hub Prometheus presents to every spoke's /federate. */
  public readonly hubPrometheusClient: IssuedCertificate;
  public readonly logSinkServer: IssuedCertificate;
  public readonly spokes: ReadonlyMap<string, SpokeTrust>;
  /** The root CA certificate: the one trust anchor clients of the estate need. */
  public readonly caCertPem: pulumi.Output<string>;

  constructor(name: string, args: EstatePkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:pki:EstatePki", name, {}, opts);
    const { spec } = args;
    const { ca, issue } = pkiFactories(name, this, spec, () => this.rootCa);
    this.rootCa = ca("root-ca", `hubspoke ${spec.environment} root CA`);
    this.caCertPem = this.rootCa.certPem;
    if (conjurServerInHub(spec)) {
      this.hubAuthenticatorCa = ca(
        `authn-${HUB_AUTHENTICATOR_ID}-ca`,
        `authn-k8s ${HUB_AUTHENTICATOR_ID} CA`,
      );
    }
    this.primaryServer = issue("primary-tls", spec.hub.advertisedHostname, "server", [
      ...spec.hub.hostnames,
      ...serviceDnsNames(PRIMARY_SERVICE, CONJUR_NAMESPACE),
      ...serviceDnsNames(PRIMARY_EXTERNAL_SERVICE, CONJUR_NAMESPACE),
    ]);
    this.postgresServer = issue(
      "postgres-tls",
      POSTGRES_SERVICE,
      "server",
      serviceDnsNames(POSTGRES_SERVICE, CONJUR_NAMESPACE),
    );
    this.hubPrometheusClient = issue("hub-prometheus-client", "hub-prometheus", "client");
    this.logSinkServer = issue("log-sink-tls", spec.hub.logSinkHostname, "server", [
      spec.hub.logSinkHostname,
      ...serviceDnsNames(LOG_SINK_SERVICE, LOGGING_NAMESPACE),
    ]);

    this.spokes = convertedSpokeTrust(spec, ca, issue);
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  /** The authn-k8s CA of one authenticator (`hub` or a converted spoke's name). */
  public authenticatorCa(id: string): CertificateAuthority {
    const found =
      id === HUB_AUTHENTICATOR_ID ? this.hubAuthenticatorCa : this.spokes.get(id)?.authenticatorCa;
    return foundCa(found, id);
  }
}

type MakeCa = (caName: string, commonName: string) => CertificateAuthority;
type Issue = (
  certName: string,
  commonName: string,
  use: "server" | "client",
  dnsNames?: readonly string[],
) => IssuedCertificate;

/** How a PKI component creates its CAs and issues from its root: names `<component>-<name>`, its children. */
function pkiFactories(
  name: string,
  parent: pulumi.Resource,
  spec: StackSpec,
  root: () => Authority,
): { ca: MakeCa; issue: Issue } {
  const validity: Validity = {
    validityHours: spec.certificates.validityHours,
    earlyRenewalHours: spec.certificates.earlyRenewalHours,
  };
  return {
    ca: (caName, commonName) =>
      new CertificateAuthority(
        `${name}-${caName}`,
        { commonName, validityHours: spec.certificates.caValidityHours, protect: spec.protectIrreplaceable },
        { parent },
      ),
    issue: (certName, commonName, use, dnsNames = []) =>
      new IssuedCertificate(
        `${name}-${certName}`,
        { ca: root(), commonName, dnsNames, use, validity },
        { parent },
      ),
  };
}

/** Each converted spoke's certificates (and, in enterprise, its authn-k8s CA), by spoke name. */
function convertedSpokeTrust(spec: StackSpec, ca: MakeCa, issue: Issue): ReadonlyMap<string, SpokeTrust> {
  return new Map(convertedSpokes(spec).map((spoke) => [spoke.name, spokeTrust(spec, spoke, ca, issue)]));
}

function spokeTrust(spec: StackSpec, spoke: SpokeSpec, ca: MakeCa, issue: Issue): SpokeTrust {
  return {
    ...(spec.conjur.edition === "enterprise"
      ? { authenticatorCa: ca(`authn-${spoke.name}-ca`, `authn-k8s ${spoke.name} CA`) }
      : {}),
    prometheusServer: issue(`${spoke.name}-prometheus-tls`, spoke.monitoring.hostname, "server", [
      spoke.monitoring.hostname,
      ...serviceDnsNames(PROMETHEUS_SERVICE, MONITORING_NAMESPACE),
    ]),
    logForwarderClient: issue(`${spoke.name}-fluent-bit-client`, `fluent-bit-${spoke.name}`, "client"),
    prometheusSelfClient: issue(
      `${spoke.name}-prometheus-self-client`,
      `prometheus-${spoke.name}-self-scrape`,
      "client",
    ),
  };
}

function foundCa(found: CertificateAuthority | undefined, id: string): CertificateAuthority {
  if (!found) throw new Error(`internal: no authn-k8s CA for "${id}" in this topology`);
  return found;
}

/** What the spokes' components need from a PKI: the root CA's certificate and each spoke's trust. */
export interface SpokePki {
  readonly caCertPem: pulumi.Output<string>;
  readonly spokes: ReadonlyMap<string, SpokeTrust>;
  authenticatorCa(id: string): CertificateAuthority;
}

export interface ShardPkiArgs {
  readonly spec: StackSpec;
  /** The estate's root CA, as the hub stack exports it (docs/sharding.md). */
  readonly rootCa: Authority;
}

/**
 * A shard stack's PKI: the certificates of its own spokes, issued from the hub stack's root CA, so
 * they chain to the one trust anchor the hub and every other shard use. Names as in EstatePki.
 */
export class ShardPki extends pulumi.ComponentResource implements SpokePki {
  public readonly caCertPem: pulumi.Output<string>;
  public readonly spokes: ReadonlyMap<string, SpokeTrust>;

  constructor(name: string, args: ShardPkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:pki:ShardPki", name, {}, opts);
    const { ca, issue } = pkiFactories(name, this, args.spec, () => args.rootCa);
    this.caCertPem = args.rootCa.certPem;
    this.spokes = convertedSpokeTrust(args.spec, ca, issue);
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  public authenticatorCa(id: string): CertificateAuthority {
    return foundCa(this.spokes.get(id)?.authenticatorCa, id);
  }
}

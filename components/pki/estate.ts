// The estate's trust material, derived from the spec: one root CA, one CA per authn-k8s
// authenticator, and the certificates of every TLS channel (primary, followers, Postgres, metrics
// federation and log forwarding). Names are stable per role and per spoke, so adding a spoke
// creates new certificates and touches none of the existing ones.
import * as pulumi from "@pulumi/pulumi";
import { conjurServerInHub, StackSpec, SpokeSpec } from "../../stacks/spec";
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
import { CertificateAuthority, IssuedCertificate, Validity } from "./certificates";

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

export class EstatePki extends pulumi.ComponentResource {
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
    const validity: Validity = {
      validityHours: spec.certificates.validityHours,
      earlyRenewalHours: spec.certificates.earlyRenewalHours,
    };
    const ca = (caName: string, commonName: string) =>
      new CertificateAuthority(
        `${name}-${caName}`,
        { commonName, validityHours: spec.certificates.caValidityHours, protect: spec.protectIrreplaceable },
        { parent: this },
      );
    const issue = (
      certName: string,
      commonName: string,
      use: "server" | "client",
      dnsNames: readonly string[] = [],
    ) =>
      new IssuedCertificate(
        `${name}-${certName}`,
        { ca: this.rootCa, commonName, dnsNames, use, validity },
        { parent: this },
      );

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

    const spokes = new Map<string, SpokeTrust>();
    for (const spoke of spec.spokes.filter((s) => s.converted)) {
      spokes.set(spoke.name, this.spokeTrust(spec, spoke, ca, issue));
    }
    this.spokes = spokes;
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  private spokeTrust(
    spec: StackSpec,
    spoke: SpokeSpec,
    ca: (name: string, cn: string) => CertificateAuthority,
    issue: (name: string, cn: string, use: "server" | "client", dns?: readonly string[]) => IssuedCertificate,
  ): SpokeTrust {
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

  /** The authn-k8s CA of one authenticator (`hub` or a converted spoke's name). */
  public authenticatorCa(id: string): CertificateAuthority {
    const found =
      id === HUB_AUTHENTICATOR_ID ? this.hubAuthenticatorCa : this.spokes.get(id)?.authenticatorCa;
    if (!found) throw new Error(`internal: no authn-k8s CA for "${id}" in this topology`);
    return found;
  }
}

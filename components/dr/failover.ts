// HubFailover: the Conjur hostname as Route53 PRIMARY/SECONDARY failover records, the primary
// health-checked over HTTPS. Clients and spokes use this name (it is in the hub's certificate);
// when the primary hub's check fails, Route53 answers with the standby hub's load balancer.
import * as pulumi from "@pulumi/pulumi";
import * as route53 from "@pulumi/aws/route53";
import type { Provider as AwsProvider } from "@pulumi/aws/provider";
import type { FailoverSpec } from "../../stacks/spec";
import { HTTPS_PORT } from "../naming";

export interface HubFailoverArgs {
  readonly failover: FailoverSpec;
  /** The AWS provider the health check and records are managed through (Route53 is global). */
  readonly awsProvider: AwsProvider;
}

/** Short TTLs: a resolver follows a failover within a minute of Route53 switching. */
export const FAILOVER_TTL_SECONDS = 60;
/** Three failed checks 30 s apart mark the primary unhealthy (about 90 s to fail over). */
export const HEALTH_CHECK = { failureThreshold: 3, requestInterval: 30 } as const;

export class HubFailover extends pulumi.ComponentResource {
  public readonly healthCheckId: pulumi.Output<string>;
  public readonly hostname: pulumi.Output<string>;

  constructor(name: string, args: HubFailoverArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:dr:HubFailover", name, {}, opts);
    const f = args.failover;
    const awsOpts = { parent: this, provider: args.awsProvider };
    // `/` through the TLS front reaches Conjur itself (nginx's own health path answers even when
    // Conjur is down). Route53's checkers connect from the internet: see docs/disaster-recovery.md#failover.
    const healthCheck = new route53.HealthCheck(
      `${name}-primary-health`,
      {
        type: "HTTPS",
        fqdn: f.primaryTarget,
        port: HTTPS_PORT,
        resourcePath: f.healthCheckPath,
        enableSni: true,
        failureThreshold: HEALTH_CHECK.failureThreshold,
        requestInterval: HEALTH_CHECK.requestInterval,
        tags: { Name: `conjur-primary ${f.hostname}` },
      },
      awsOpts,
    );
    const record = (role: "PRIMARY" | "SECONDARY", target: string, healthCheckId?: pulumi.Output<string>) =>
      new route53.Record(
        `${name}-${role.toLowerCase()}`,
        {
          zoneId: f.zoneId,
          name: f.hostname,
          type: "CNAME",
          ttl: FAILOVER_TTL_SECONDS,
          records: [target],
          setIdentifier: `conjur-${role.toLowerCase()}`,
          failoverRoutingPolicies: [{ type: role }],
          ...(healthCheckId ? { healthCheckId } : {}),
        },
        awsOpts,
      );
    record("PRIMARY", f.primaryTarget, healthCheck.id);
    // Without its own check the SECONDARY answers whenever the PRIMARY is unhealthy.
    record("SECONDARY", f.standby.target);
    this.healthCheckId = healthCheck.id;
    this.hostname = pulumi.output(f.hostname);
    this.registerOutputs({ healthCheckId: this.healthCheckId, hostname: this.hostname });
  }
}

// Tenant: a namespace the spoke hosts, adopted (never recreated) when it exists already, with its
// quota, limits, network isolation and the authenticator's RoleBinding. Namespaces are retained
// on delete, so `pulumi destroy` leaves every tenant and its workloads where they were.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { TenantSpec } from "../../stacks/spec";
import { networkPolicyFactory } from "../namespace";
import { defaultDenySpec, dnsEgressRule, namespaceSelectorFor, podSecurityLabels, tcpPorts } from "../kube";
import {
  CONJUR_NAMESPACE,
  FOLLOWER_HTTPS_PORT,
  FOLLOWER_SERVICE,
  LABEL_MANAGED_BY,
  LABEL_PART_OF,
  LABEL_TENANT,
  PART_OF,
  selectorLabels,
} from "../naming";

export interface TenantArgs {
  /** The tenant as the spec declares it. */
  readonly tenant: TenantSpec;
  /** Provider of the spoke cluster hosting the tenant. */
  readonly provider: k8s.Provider;
  /** Name of the ClusterRole holding authn-k8s' read and exec rights. */
  readonly authenticatorRole: pulumi.Input<string>;
  /** ServiceAccount (in conjur-system) of the follower that authenticates this tenant's pods. */
  readonly followerServiceAccount: pulumi.Input<string>;
}

/** Labels this stack owns on a tenant namespace: Pod Security and the tenant marker. */
export function tenantNamespaceLabels(tenant: TenantSpec): Record<string, string> {
  return { ...podSecurityLabels(tenant.podSecurity), [LABEL_TENANT]: tenant.name, [LABEL_PART_OF]: PART_OF };
}

export class Tenant extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:tenancy:Tenant", name, {}, opts);
    const { tenant } = args;
    const k8sOpts = { parent: this, provider: args.provider };
    const labels = tenantNamespaceLabels(tenant);
    // Tenant namespaces are never deleted by this stack: created or adopted, they hold workloads.
    const keep = { ...k8sOpts, retainOnDelete: true };

    let namespaceResource: pulumi.Resource;
    if (!tenant.existing) {
      namespaceResource = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        { metadata: { name: tenant.name, labels } },
        keep,
      );
    } else if (tenant.adopt === "import") {
      // Take ownership of the live object: declare only what it already has (its name) so the import
      // matches, then add our labels with a patch.
      const imported = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        { metadata: { name: tenant.name } },
        { ...keep, import: tenant.name, ignoreChanges: ["metadata.labels", "metadata.annotations", "spec"] },
      );
      namespaceResource = new k8s.core.v1.NamespacePatch(
        `${name}-namespace-labels`,
        { metadata: { name: tenant.name, labels } },
        { ...keep, dependsOn: [imported] },
      );
    } else {
      // Server-side apply patch: only our labels are managed; the namespace itself is not owned.
      namespaceResource = new k8s.core.v1.NamespacePatch(
        `${name}-namespace-labels`,
        { metadata: { name: tenant.name, labels, annotations: { "pulumi.com/patchForce": "true" } } },
        keep,
      );
    }
    const nsOpts = { ...k8sOpts, dependsOn: [namespaceResource] };
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: tenant.name,
      labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: "pulumi", [LABEL_TENANT]: tenant.name },
    });

    if (tenant.quota) {
      const q = tenant.quota;
      const hard: Record<string, string> = {};
      if (q.requestsCpu) hard["requests.cpu"] = q.requestsCpu;
      if (q.requestsMemory) hard["requests.memory"] = q.requestsMemory;
      if (q.limitsCpu) hard["limits.cpu"] = q.limitsCpu;
      if (q.limitsMemory) hard["limits.memory"] = q.limitsMemory;
      if (q.pods !== undefined) hard["pods"] = String(q.pods);
      new k8s.core.v1.ResourceQuota(
        `${name}-quota`,
        { metadata: meta("hubspoke-quota"), spec: { hard } },
        nsOpts,
      );
    }
    if (tenant.limits) {
      const l = tenant.limits;
      const quantities = (cpu?: string, memory?: string) =>
        cpu || memory ? { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } : undefined;
      const defaults = quantities(l.defaultCpu, l.defaultMemory);
      const defaultRequests = quantities(l.defaultRequestCpu, l.defaultRequestMemory);
      const item: k8s.types.input.core.v1.LimitRangeItem = {
        type: "Container",
        ...(defaults ? { default: defaults } : {}),
        ...(defaultRequests ? { defaultRequest: defaultRequests } : {}),
      };
      new k8s.core.v1.LimitRange(
        `${name}-limits`,
        { metadata: meta("hubspoke-limits"), spec: { limits: [item] } },
        nsOpts,
      );
    }

    // Isolation: deny by default, then traffic inside the namespace, DNS, and the local follower.
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    netpol("default-deny", "default-deny", defaultDenySpec());
    netpol("same-namespace", "allow-same-namespace", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    });
    netpol("egress", "allow-dns-and-conjur-follower", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        dnsEgressRule(),
        {
          to: [
            {
              namespaceSelector: namespaceSelectorFor(CONJUR_NAMESPACE),
              podSelector: { matchLabels: selectorLabels(FOLLOWER_SERVICE) },
            },
          ],
          ports: tcpPorts(FOLLOWER_HTTPS_PORT),
        },
        ...(tenant.egressCidrs.length
          ? [{ to: tenant.egressCidrs.map((cidr) => ({ ipBlock: { cidr } })) }]
          : []),
      ],
    });

    // The follower's authenticator may inspect and exec into this namespace's pods, and only here.
    new k8s.rbac.v1.RoleBinding(
      `${name}-authenticator`,
      {
        metadata: meta("conjur-authenticator"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: args.authenticatorRole },
        subjects: [
          { kind: "ServiceAccount", name: args.followerServiceAccount, namespace: CONJUR_NAMESPACE },
        ],
      },
      nsOpts,
    );

    this.namespace = pulumi.output(tenant.name);
    this.registerOutputs({ namespace: this.namespace });
  }
}

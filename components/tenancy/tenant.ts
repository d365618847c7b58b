// Tenant: a namespace the spoke hosts, staged per tenant. Adopted namespaces are patched (never
// recreated) with server-side apply, without force and without retainOnDelete, so `pulumi destroy`
// hands every label back: a label the patch added is removed, one that was already there with the
// same value stays (co-owned), and one with another value is a conflict the apply refuses. Inside the
// namespace: the quota and limits, the NetworkPolicies of the `enforce` stage, and, with Conjur
// onboarding, the authenticator's RoleBinding; every object carries the `hubspoke-` prefix.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { TenantSpec } from "../../stacks/spec";
import { networkPolicyFactory } from "../namespace";
import { CONJUR_NAMESPACE, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_TENANT, PART_OF } from "../naming";
import {
  EgressRule,
  TENANT_OBJECT_NAMES,
  tenantLimitRangeItem,
  tenantNamespaceAnnotations,
  tenantNamespaceLabels,
  tenantNetworkPolicies,
  tenantQuotaHard,
} from "./isolation";

export interface TenantArgs {
  /** The tenant as the spec declares it, its stage resolved. */
  readonly tenant: TenantSpec;
  /** Provider of the spoke cluster hosting the tenant. */
  readonly provider: k8s.Provider;
  /** With Conjur onboarding: what the tenant's applications need to reach Conjur. */
  readonly conjur: TenantConjurAccess;
}

/** How a tenant's applications reach Conjur (per edition: the local follower, or the hub). */
export interface TenantConjurAccess {
  /** Data of the tenant's connection ConfigMap (URL, account, authenticator, CA: public values). */
  readonly connect: Record<string, pulumi.Input<string>>;
  /** The egress rule to Conjur in the `enforce` stage. */
  readonly egress: EgressRule;
  /** Enterprise: the follower's authn-k8s inspects and execs into this namespace's pods. */
  readonly authenticator?: {
    /** Name of the ClusterRole holding authn-k8s' read and exec rights. */
    readonly role: pulumi.Input<string>;
    /** ServiceAccount (in conjur-system) of the follower that authenticates this tenant's pods. */
    readonly serviceAccount: pulumi.Input<string>;
  };
}

type K8sOpts = { parent: pulumi.Resource; provider: k8s.Provider };

/**
 * The namespace step. Created: a Namespace the stack owns, retained on delete (workloads deployed
 * there since belong to the tenant). Adopted: a NamespacePatch managing only the stage's labels and
 * annotations; with `adopt: import` the Namespace is first imported (declaring only its name, so
 * nothing is written) and retained, so destroy only drops it from the state.
 */
function tenantNamespace(name: string, tenant: TenantSpec, opts: K8sOpts): pulumi.Resource {
  const metadata = {
    name: tenant.name,
    labels: tenantNamespaceLabels(tenant),
    annotations: tenantNamespaceAnnotations(tenant),
  };
  if (!tenant.existing) {
    return new k8s.core.v1.Namespace(`${name}-namespace`, { metadata }, { ...opts, retainOnDelete: true });
  }
  let dependsOn: pulumi.Resource[] = [];
  if (tenant.adopt === "import") {
    const imported = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: tenant.name } },
      {
        ...opts,
        retainOnDelete: true,
        import: tenant.name,
        ignoreChanges: ["metadata.labels", "metadata.annotations", "spec"],
      },
    );
    dependsOn = [imported];
  }
  // No `pulumi.com/patchForce` and no retainOnDelete: see the module comment and docs/conversion.md.
  return new k8s.core.v1.NamespacePatch(`${name}-namespace-labels`, { metadata }, { ...opts, dependsOn });
}

export class Tenant extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:tenancy:Tenant", name, {}, opts);
    const { tenant } = args;
    const k8sOpts = { parent: this, provider: args.provider };

    const namespace = tenantNamespace(name, tenant, k8sOpts);
    // Everything inside waits for the namespace step: a refused patch (label conflict) creates nothing.
    const nsOpts = { ...k8sOpts, dependsOn: [namespace] };
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: tenant.name,
      labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: "pulumi", [LABEL_TENANT]: tenant.name },
    });

    const hard = tenantQuotaHard(tenant.quota);
    if (hard) {
      new k8s.core.v1.ResourceQuota(
        `${name}-quota`,
        { metadata: meta(TENANT_OBJECT_NAMES.quota), spec: { hard } },
        nsOpts,
      );
    }
    const limitItem = tenantLimitRangeItem(tenant.limits);
    if (limitItem) {
      new k8s.core.v1.LimitRange(
        `${name}-limits`,
        { metadata: meta(TENANT_OBJECT_NAMES.limits), spec: { limits: [limitItem] } },
        nsOpts,
      );
    }

    // `enforce` only. The allow policies come first and the deny waits for them, so no moment exists in
    // which the namespace is isolated without its allow-lists (and on destroy the deny goes first).
    const netpol = networkPolicyFactory(`${name}-netpol`, meta, nsOpts);
    const allows: pulumi.Resource[] = [];
    for (const policy of tenantNetworkPolicies(tenant.stage, args.conjur.egress)) {
      if (policy.role === "default-deny") {
        networkPolicyFactory(`${name}-netpol`, meta, { ...nsOpts, dependsOn: [namespace, ...allows] })(
          policy.role,
          policy.name,
          policy.spec,
        );
      } else {
        allows.push(netpol(policy.role, policy.name, policy.spec));
      }
    }

    if (tenant.stage.onboarding.conjur) this.onboardConjur(name, args.conjur, meta, nsOpts);

    this.namespace = pulumi.output(tenant.name);
    this.registerOutputs({ namespace: this.namespace });
  }

  /**
   * Conjur onboarding: the connection ConfigMap the applications read, and in enterprise the
   * RoleBinding that lets the local follower's authn-k8s inspect and exec into this namespace's pods.
   */
  private onboardConjur(
    name: string,
    access: TenantConjurAccess,
    meta: (objectName: string) => k8s.types.input.meta.v1.ObjectMeta,
    opts: pulumi.CustomResourceOptions,
  ): void {
    new k8s.core.v1.ConfigMap(
      `${name}-conjur-connect`,
      { metadata: meta(TENANT_OBJECT_NAMES.conjurConnect), data: access.connect },
      opts,
    );
    if (!access.authenticator) return;
    new k8s.rbac.v1.RoleBinding(
      `${name}-authenticator`,
      {
        metadata: meta(TENANT_OBJECT_NAMES.authenticatorBinding),
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: access.authenticator.role,
        },
        subjects: [
          { kind: "ServiceAccount", name: access.authenticator.serviceAccount, namespace: CONJUR_NAMESPACE },
        ],
      },
      opts,
    );
  }
}

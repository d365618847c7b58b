// ArgoCdSpokeAccess: what Argo CD on the hub needs on one converted spoke, and the credentials its
// cluster Secret carries. On EKS: an access entry mapping Argo CD's IAM role to a Kubernetes group
// (authentication with awsAuthConfig). Elsewhere: a dedicated ServiceAccount with a long-lived token
// Secret (Kubernetes 1.24+ creates none by itself; argoproj/argo-cd #9546 does the same for
// `argocd cluster add`) and the cluster's CA. Either identity gets `edit` in each tenant namespace
// only, or in every namespace when the config says `all-namespaces`.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AccessEntry } from "@pulumi/aws/eks/accessEntry";
import type { Provider as AwsProvider } from "@pulumi/aws/provider";
import type { ArgoCdSpec } from "../../stacks/gitops";
import type { SpokeSpec } from "../../stacks/spec";
import { defaultDenySpec } from "../kube";
import { managedNamespace, networkPolicyFactory } from "../namespace";
import { GITOPS_NAMESPACE, LABEL_MANAGED_BY, LABEL_PART_OF, OBJECT_PREFIX, PART_OF } from "../naming";
import { ARGOCD_EKS_GROUP, ARGOCD_ROLE, ARGOCD_SERVICE_ACCOUNT, clusterConfigJson } from "./argocd";

export interface ArgoCdSpokeAccessArgs {
  /** The converted spoke. */
  readonly spoke: SpokeSpec;
  readonly argocd: ArgoCdSpec;
  /** Provider of the spoke's cluster. */
  readonly provider: k8s.Provider;
  /** The spoke's API server URL as Argo CD on the hub reaches it. */
  readonly apiServer: pulumi.Input<string>;
  /** EKS spokes: the cluster CA (base64 PEM) and the AWS provider of its region. */
  readonly eks?: { readonly caData: pulumi.Input<string>; readonly awsProvider: AwsProvider };
  /** Resources the tenant namespaces come from (the RoleBindings wait for them). */
  readonly tenantNamespaces: readonly pulumi.Resource[];
}

type RbacSubject = { kind: string; name: string; namespace?: string; apiGroup?: string };

export class ArgoCdSpokeAccess extends pulumi.ComponentResource {
  /** The API server URL to register. */
  public readonly server: pulumi.Output<string>;
  /** The cluster Secret's `config` JSON (secret: it may hold a bearer token). */
  public readonly config: pulumi.Output<string>;

  constructor(name: string, args: ArgoCdSpokeAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:gitops:ArgoCdSpokeAccess", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const identity =
      args.spoke.argocd.kind === "aws" && args.eks
        ? this.eksIdentity(name, args.spoke.argocd, args.eks)
        : this.serviceAccountIdentity(name, k8sOpts);
    this.bindRbac(name, args, identity.subject, k8sOpts, identity.ready);
    this.server = pulumi.output(args.apiServer);
    this.config = pulumi.secret(identity.config);
    this.registerOutputs({ server: this.server });
  }

  /** EKS: Argo CD assumes the role; the access entry maps it to the group RBAC binds. */
  private eksIdentity(
    name: string,
    credentials: { clusterName: string; roleArn: string },
    eks: NonNullable<ArgoCdSpokeAccessArgs["eks"]>,
  ) {
    const entry = new AccessEntry(
      `${name}-access-entry`,
      {
        clusterName: credentials.clusterName,
        principalArn: credentials.roleArn,
        kubernetesGroups: [ARGOCD_EKS_GROUP],
        type: "STANDARD",
      },
      { parent: this, provider: eks.awsProvider },
    );
    return {
      subject: { kind: "Group", name: ARGOCD_EKS_GROUP, apiGroup: "rbac.authorization.k8s.io" },
      config: pulumi
        .output(eks.caData)
        .apply((ca) =>
          clusterConfigJson(
            { kind: "aws", clusterName: credentials.clusterName, roleArn: credentials.roleArn },
            ca,
          ),
        ),
      ready: [entry] as pulumi.Resource[],
    };
  }

  /** Elsewhere: a ServiceAccount in its own namespace, its long-lived token read back, the cluster CA. */
  private serviceAccountIdentity(name: string, k8sOpts: { parent: pulumi.Resource; provider: k8s.Provider }) {
    const ns = managedNamespace(
      `${name}-namespace`,
      { name: GITOPS_NAMESPACE, podSecurity: "restricted" },
      k8sOpts,
    );
    // No pod runs here; the deny keeps it that way for anything added later.
    networkPolicyFactory(`${name}-netpol`, ns.meta, ns.opts)(
      "default-deny",
      "default-deny",
      defaultDenySpec(),
    );
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: ns.meta(ARGOCD_SERVICE_ACCOUNT, "argocd"), automountServiceAccountToken: false },
      ns.opts,
    );
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: {
          ...ns.meta(`${ARGOCD_SERVICE_ACCOUNT}-token`, "argocd"),
          annotations: { "kubernetes.io/service-account.name": ARGOCD_SERVICE_ACCOUNT },
        },
        type: "kubernetes.io/service-account-token",
      },
      { ...ns.opts, dependsOn: [ns.resource, sa] },
    );
    // The token controller fills the Secret after creation: read it back.
    const tokenRead = k8s.core.v1.Secret.get(
      `${name}-token-read`,
      pulumi.interpolate`${GITOPS_NAMESPACE}/${tokenSecret.metadata.name}`,
      { ...k8sOpts, dependsOn: [tokenSecret] },
    );
    const clusterCa = k8s.core.v1.ConfigMap.get(
      `${name}-cluster-ca-read`,
      "kube-system/kube-root-ca.crt",
      k8sOpts,
    );
    const token = tokenRead.data.apply((d) => Buffer.from(d?.["token"] ?? "", "base64").toString("utf8"));
    const caData = clusterCa.data.apply((d) => Buffer.from(d?.["ca.crt"] ?? "").toString("base64"));
    return {
      subject: { kind: "ServiceAccount", name: ARGOCD_SERVICE_ACCOUNT, namespace: GITOPS_NAMESPACE },
      config: pulumi
        .all([pulumi.secret(token), caData])
        .apply(([t, ca]) => clusterConfigJson({ kind: "bearer-token", token: t }, ca)),
      ready: [sa] as pulumi.Resource[],
    };
  }

  /** `edit` in each tenant namespace, or in every namespace with `all-namespaces`. */
  private bindRbac(
    name: string,
    args: ArgoCdSpokeAccessArgs,
    subject: RbacSubject,
    k8sOpts: { parent: pulumi.Resource; provider: k8s.Provider },
    ready: pulumi.Resource[],
  ): void {
    const labels = { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: "pulumi" };
    const roleRef = (roleName: string) => ({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: roleName,
    });
    if (args.argocd.access === "all-namespaces") {
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-all-namespaces`,
        {
          metadata: { name: `${OBJECT_PREFIX}argocd`, labels },
          roleRef: roleRef(ARGOCD_ROLE),
          subjects: [subject],
        },
        { ...k8sOpts, dependsOn: ready },
      );
      return;
    }
    for (const tenant of args.spoke.tenants) {
      new k8s.rbac.v1.RoleBinding(
        `${name}-tenant-${tenant.name}`,
        {
          metadata: { name: `${OBJECT_PREFIX}argocd`, namespace: tenant.name, labels },
          roleRef: roleRef(ARGOCD_ROLE),
          subjects: [subject],
        },
        { ...k8sOpts, dependsOn: [...ready, ...args.tenantNamespaces] },
      );
    }
  }
}

// ClusterAudit: ships the estate's API server audit policy to one cluster as a ConfigMap, so the
// control plane's operators (or a node bootstrap) mount it as --audit-policy-file. The offline plan
// writes the same document to audit/<cluster>-audit-policy.yaml for self-managed control planes.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CONJUR_NAMESPACE, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, PART_OF } from "../naming";
import {
  AUDIT_POLICY_CONFIGMAP,
  AUDIT_POLICY_FILE,
  buildAuditPolicy,
  renderAuditPolicy,
  validateAuditPolicy,
} from "./policy";

export interface ClusterAuditArgs {
  /** The cluster's explicit Kubernetes provider. */
  readonly provider: k8s.Provider;
  /** Namespace of the ConfigMap; default conjur-system, which the hub or spoke on this cluster creates. */
  readonly namespace?: pulumi.Input<string>;
  /** Users whose read-only requests are not logged (noisy controllers); their writes still are. */
  readonly extraNoneUsers?: readonly string[];
}

export class ClusterAudit extends pulumi.ComponentResource {
  /** Name of the ConfigMap holding the policy (key `audit-policy.yaml`). */
  public readonly configMapName: pulumi.Output<string>;
  /** The audit.k8s.io/v1 Policy as the API server reads it. */
  public readonly policyYaml: string;

  constructor(name: string, args: ClusterAuditArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:audit:ClusterAudit", name, {}, opts);
    const policy = buildAuditPolicy({ extraNoneUsers: args.extraNoneUsers ?? [] });
    const problems = validateAuditPolicy(policy);
    if (problems.length > 0) throw new Error(`audit policy for ${name} is invalid:\n${problems.join("\n")}`);
    this.policyYaml = renderAuditPolicy(policy);

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-policy`,
      {
        metadata: {
          name: AUDIT_POLICY_CONFIGMAP,
          namespace: args.namespace ?? CONJUR_NAMESPACE,
          labels: {
            [LABEL_COMPONENT]: "audit-policy",
            [LABEL_PART_OF]: PART_OF,
            [LABEL_MANAGED_BY]: "pulumi",
          },
        },
        data: { [AUDIT_POLICY_FILE]: this.policyYaml },
      },
      { parent: this, provider: args.provider },
    );
    this.configMapName = configMap.metadata.name;
    this.registerOutputs({ configMapName: this.configMapName });
  }
}

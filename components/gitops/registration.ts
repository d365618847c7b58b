// ArgoCdRegistration: on the hub, in the namespace of the Argo CD installation (a prerequisite), one
// declarative cluster Secret per converted spoke, the environment's AppProject, and the ApplicationSet
// whose cluster generator deploys to them. Deleting a spoke's Secret unregisters it; the workloads
// Argo CD deployed there stay (the ApplicationSet preserves resources on deletion).
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ArgoCdSpec } from "../../stacks/gitops";
import { LABEL_MANAGED_BY, LABEL_PART_OF, PART_OF } from "../naming";
import {
  ArgoCdSpoke,
  appProjectSpec,
  applicationSetName,
  applicationSetSpec,
  clusterSecretData,
  clusterSecretLabels,
  clusterSecretName,
  projectDestinations,
  projectName,
} from "./argocd";

export const ARGOCD_API_VERSION = "argoproj.io/v1alpha1";

export interface RegisteredSpoke {
  readonly spoke: ArgoCdSpoke;
  /** API server URL Argo CD connects to. */
  readonly server: pulumi.Input<string>;
  /** The cluster Secret's `config` JSON (secret). */
  readonly config: pulumi.Input<string>;
}

export interface ArgoCdRegistrationArgs {
  readonly environment: string;
  readonly argocd: ArgoCdSpec;
  /** Provider of the hub cluster. */
  readonly provider: k8s.Provider;
  /** Converted spokes only: a pending spoke is not registered. */
  readonly spokes: readonly RegisteredSpoke[];
}

export class ArgoCdRegistration extends pulumi.ComponentResource {
  /** Names of the cluster Secrets, by spoke. */
  public readonly clusterSecrets: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ArgoCdRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:gitops:ArgoCdRegistration", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider };
    const { environment, argocd } = args;
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: argocd.namespace,
      labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: "pulumi" },
    });

    const secrets = args.spokes.map(
      (r) =>
        new k8s.core.v1.Secret(
          `${name}-cluster-${r.spoke.name}`,
          {
            metadata: {
              ...meta(clusterSecretName(r.spoke.name)),
              labels: clusterSecretLabels(environment, r.spoke),
            },
            type: "Opaque",
            // Only `config` is secret (it may carry a bearer token); name, server and namespaces are not.
            stringData: clusterSecretData<pulumi.Input<string>>(
              r.spoke,
              argocd.access,
              r.server,
              pulumi.secret(r.config),
            ),
          },
          k8sOpts,
        ),
    );

    const destinations = pulumi.all(args.spokes.map((r) => pulumi.output(r.server))).apply((servers) =>
      projectDestinations(
        args.spokes.map((r, i) => ({ spoke: r.spoke, server: servers[i] })),
        argocd.access,
      ),
    );
    const project = new k8s.apiextensions.CustomResource(
      `${name}-project`,
      {
        apiVersion: ARGOCD_API_VERSION,
        kind: "AppProject",
        metadata: meta(projectName(environment)),
        spec: destinations.apply((d) => appProjectSpec(environment, argocd, d)),
      },
      k8sOpts,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-applicationset`,
      {
        apiVersion: ARGOCD_API_VERSION,
        kind: "ApplicationSet",
        metadata: meta(applicationSetName(environment)),
        spec: applicationSetSpec(environment, argocd),
      },
      { ...k8sOpts, dependsOn: [project, ...secrets] },
    );

    this.clusterSecrets = pulumi.output(
      Object.fromEntries(args.spokes.map((r) => [r.spoke.name, clusterSecretName(r.spoke.name)])),
    );
    this.registerOutputs({ clusterSecrets: this.clusterSecrets });
  }
}

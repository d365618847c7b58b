// ExternalSecretsSync: the External Secrets objects of one opted-in tenant namespace on a spoke: a
// SecretStore per application service account and an ExternalSecret per declared secret. ESO itself
// is a prerequisite on the spoke (docs/configuration.md); these objects create no pod in the tenant.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { SpokeSpec, TenantSpec } from "../../stacks/spec";
import { LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_TENANT, PART_OF } from "../naming";
import {
  ConjurEndpoint,
  ESO_API_VERSION,
  externalSecretDocuments,
  secretStoreName,
  secretStoreSpec,
  storeServiceAccounts,
} from "./documents";

export interface ExternalSecretsSyncArgs {
  readonly account: string;
  readonly spoke: SpokeSpec;
  /** An opted-in tenant. */
  readonly tenant: TenantSpec;
  readonly refreshInterval: string;
  /** The spoke's Conjur endpoint, CA (public) and token audience: esoConjurEndpoint. */
  readonly endpoint: pulumi.Input<ConjurEndpoint>;
  /** Provider of the spoke's cluster. */
  readonly provider: k8s.Provider;
  /** What the tenant namespace comes from. */
  readonly namespaceReady: readonly pulumi.Resource[];
}

export class ExternalSecretsSync extends pulumi.ComponentResource {
  constructor(name: string, args: ExternalSecretsSyncArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:eso:ExternalSecretsSync", name, {}, opts);
    const { spoke, tenant } = args;
    const k8sOpts = { parent: this, provider: args.provider, dependsOn: [...args.namespaceReady] };
    const meta = (objectName: string) => ({
      name: objectName,
      namespace: tenant.name,
      labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: "pulumi", [LABEL_TENANT]: tenant.name },
    });

    const stores = storeServiceAccounts(tenant).map(
      (serviceAccount) =>
        new k8s.apiextensions.CustomResource(
          `${name}-store-${serviceAccount}`,
          {
            apiVersion: ESO_API_VERSION,
            kind: "SecretStore",
            metadata: meta(secretStoreName(serviceAccount)),
            spec: pulumi.output(args.endpoint).apply((endpoint) =>
              secretStoreSpec({
                endpoint,
                account: args.account,
                authenticatorId: spoke.name,
                serviceAccount,
              }),
            ),
          },
          k8sOpts,
        ),
    );
    for (const doc of externalSecretDocuments(spoke.name, tenant, args.refreshInterval)) {
      new k8s.apiextensions.CustomResource(
        `${name}-${doc.name}`,
        { apiVersion: ESO_API_VERSION, kind: "ExternalSecret", metadata: meta(doc.name), spec: doc.spec },
        { ...k8sOpts, dependsOn: [...args.namespaceReady, ...stores] },
      );
    }
    this.registerOutputs({});
  }
}

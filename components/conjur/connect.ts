// What an application pod on a spoke needs to reach Conjur: the data of the `conjur-connect`
// ConfigMap that CyberArk's conjur-config-namespace-prep chart puts into each application namespace
// (cyberark/conjur-authn-k8s-client `helm/conjur-config-namespace-prep`), with the env names the
// authenticator client and Secrets Provider read. Public values only.
import type { SpokeSpec, StackSpec } from "../../stacks/spec";
import { conjurClientEndpoint } from "../../stacks/spec";

export function conjurConnectData<T>(spec: StackSpec, spoke: SpokeSpec, caCertPem: T) {
  const endpoint = conjurClientEndpoint(spec, spoke);
  return {
    CONJUR_ACCOUNT: spec.conjurAccount,
    CONJUR_APPLIANCE_URL: endpoint.url,
    CONJUR_AUTHN_URL: `${endpoint.url}/${endpoint.authenticator}`,
    CONJUR_AUTHENTICATOR_ID: spoke.name,
    CONJUR_SSL_CERTIFICATE: caCertPem,
  };
}

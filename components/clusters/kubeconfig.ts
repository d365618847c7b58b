// Pure kubeconfig document for an EKS cluster: the endpoint and CA from EKS, and an exec entry that
// asks `aws eks get-token` for a short-lived token at each use (no token is stored in state).

export interface EksKubeconfigInput {
  readonly clusterName: string;
  readonly region: string;
  readonly endpoint: string;
  /** Base64 PEM of the cluster CA, as EKS returns it. */
  readonly caData: string;
  readonly roleArn?: string;
  /** AWS CLI profile to sign the token request with. */
  readonly profile?: string;
}

export function buildEksKubeconfig(input: EksKubeconfigInput): string {
  const args = [
    "eks",
    "get-token",
    "--output",
    "json",
    "--cluster-name",
    input.clusterName,
    "--region",
    input.region,
  ];
  if (input.roleArn) args.push("--role-arn", input.roleArn);
  const user = "aws";
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: input.clusterName,
        cluster: { server: input.endpoint, "certificate-authority-data": input.caData },
      },
    ],
    contexts: [{ name: input.clusterName, context: { cluster: input.clusterName, user } }],
    "current-context": input.clusterName,
    users: [
      {
        name: user,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args,
            ...(input.profile ? { env: [{ name: "AWS_PROFILE", value: input.profile }] } : {}),
            interactiveMode: "Never",
          },
        },
      },
    ],
  };
  return JSON.stringify(doc);
}

// Cluster providers: one per cluster in use, each from its own kind of access, secrets kept secret.
import { strict as assert } from "node:assert";
import { buildEksKubeconfig } from "../components/clusters/kubeconfig";
import { evaluate, secretPaths, unwrap } from "./support/stacks";

type Json = any;

describe("cluster providers", () => {
  it("builds an EKS kubeconfig that asks aws eks get-token, with the role and profile when given", () => {
    const doc = JSON.parse(
      buildEksKubeconfig({
        clusterName: "prod-web",
        region: "eu-central-1",
        endpoint: "https://x.eks.amazonaws.com",
        caData: "Q0E=",
        roleArn: "arn:aws:iam::123456789012:role/deployer",
        profile: "prod",
      }),
    );
    assert.equal(doc.clusters[0].cluster.server, "https://x.eks.amazonaws.com");
    assert.equal(doc.clusters[0].cluster["certificate-authority-data"], "Q0E=");
    const exec = doc.users[0].user.exec;
    assert.deepEqual(exec.args, [
      "eks",
      "get-token",
      "--output",
      "json",
      "--cluster-name",
      "prod-web",
      "--region",
      "eu-central-1",
      "--role-arn",
      "arn:aws:iam::123456789012:role/deployer",
    ]);
    assert.deepEqual(exec.env, [{ name: "AWS_PROFILE", value: "prod" }]);
  });

  it("takes a kubeconfig from a secret config key and keeps it secret in the provider's inputs", async () => {
    const e = await evaluate(
      "staging",
      (c: Json) => {
        c["hubspoke:clusters"]["stg-web"] = {
          kubeconfigSecret: "webKubeconfig",
          apiServer: "https://api.stg-web.acme.internal:6443",
        };
        c["hubspoke:webKubeconfig"] = "apiVersion: v1\nkind: Config\n";
      },
      ["hubspoke:webKubeconfig"],
    );
    const provider = e.resources.find((r) => r.name === "k8s-stg-web");
    assert.deepEqual(secretPaths(provider?.inputs), ["kubeconfig"]);
    assert.equal(unwrap(provider?.inputs["kubeconfig"]), "apiVersion: v1\nkind: Config\n");
  });

  it("renders manifests to a directory per cluster when renderYamlToDirectory is set", async () => {
    const e = await evaluate("dev", (c: Json) => (c["hubspoke:renderYamlToDirectory"] = "rendered"));
    const dirs = e.resources
      .filter((r) => r.type === "pulumi:providers:kubernetes")
      .map((r) => r.inputs["renderYamlToDirectory"]);
    assert.deepEqual(dirs, ["rendered/dev-hub", "rendered/dev-apps"]);
  });

  it("creates providers only for the hub and converted spokes, and one AWS provider per EKS region", async () => {
    const prod = await evaluate("prod");
    assert.deepEqual(
      prod.resources.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => r.name),
      ["k8s-prod-mgmt", "k8s-prod-payments-euw1", "k8s-prod-web-euw1"],
    );
    assert.deepEqual(
      prod.resources.filter((r) => r.type === "pulumi:providers:aws").map((r) => r.inputs["region"]),
      ["eu-west-1"],
    );
  });
});

// The API-server rules the schemas do not carry (tools/manifest-checks.ts): each check passes a
// well-formed object and fails one with exactly one thing wrong.
import { strict as assert } from "node:assert";
import {
  checkLabels,
  checkNames,
  checkNamespacesExist,
  checkPorts,
  checkServiceSelectors,
  checkWorkloadSelector,
  KubeObject,
  labelValueProblem,
  portNameProblem,
  qualifiedNameProblem,
} from "../../tools/manifest-checks";

const labels = { "app.kubernetes.io/name": "conjur-follower", "app.kubernetes.io/part-of": "hubspoke" };

function follower(): any {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "conjur-follower", namespace: "conjur-system", labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "conjur-follower" } },
      template: {
        metadata: { labels, annotations: { "hubspoke.io/config-hash": "abc123" } },
        spec: {
          containers: [
            {
              name: "conjur-follower",
              image: "registry.example.com/conjur-appliance:13.5.0",
              ports: [
                { name: "https", containerPort: 8443 },
                { name: "ldaps", containerPort: 8636 },
              ],
              readinessProbe: { httpGet: { path: "/health", port: "https", scheme: "HTTPS" } },
              livenessProbe: { tcpSocket: { port: 8443 } },
            },
          ],
        },
      },
    },
  };
}

function followerService(): any {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "conjur-follower", namespace: "conjur-system", labels },
    spec: {
      selector: { "app.kubernetes.io/name": "conjur-follower" },
      ports: [
        { name: "https", port: 443, targetPort: "https" },
        { name: "ldaps", port: 636, targetPort: "ldaps" },
      ],
    },
  };
}

const paths = (problems: { path: string }[]): string[] => problems.map((p) => p.path);

describe("manifest checks (API-server rules beyond the schema)", () => {
  describe("value syntax", () => {
    it("port names are IANA service names: at most 15 characters, a letter, no '--'", () => {
      for (const ok of ["https", "metrics", "http-2", "a1"]) assert.equal(portNameProblem(ok), undefined, ok);
      for (const bad of ["prometheus-metrics", "HTTPS", "http--alt", "8080", "-http", ""]) {
        assert.ok(portNameProblem(bad), bad);
      }
    });

    it("label keys are [DNS subdomain prefix/]name with a name of at most 63 characters", () => {
      for (const ok of ["app", "app.kubernetes.io/name", "hubspoke.io/tenant", "a_b.c-d"]) {
        assert.equal(qualifiedNameProblem(ok), undefined, ok);
      }
      for (const bad of ["a/b/c", "Example.com/x", "app.kubernetes.io/", "-app", "x".repeat(64)]) {
        assert.ok(qualifiedNameProblem(bad), bad);
      }
    });

    it("label values are empty or at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends", () => {
      for (const ok of ["", "v1.2.3", "team_a", "pulumi"]) assert.equal(labelValueProblem(ok), undefined, ok);
      for (const bad of ["-x", "a b", "x".repeat(64), 3]) assert.ok(labelValueProblem(bad), String(bad));
    });
  });

  describe("checkNames", () => {
    it("passes DNS-1123 names, DNS-1035 Service names and RBAC path-segment names", () => {
      assert.deepEqual(checkNames(follower()), []);
      assert.deepEqual(checkNames(followerService()), []);
      const role = { kind: "ClusterRole", metadata: { name: "hubspoke:authenticator" } };
      assert.deepEqual(checkNames(role), []);
    });

    it("fails an upper-case name, a Service name starting with a digit, a long namespace and a bad ConfigMap key", () => {
      const deployment = follower();
      deployment.metadata.name = "Conjur-Follower";
      assert.deepEqual(paths(checkNames(deployment)), ["metadata.name"]);
      const service = followerService();
      service.metadata.name = "1follower";
      assert.deepEqual(paths(checkNames(service)), ["metadata.name"]);
      const namespaced = follower();
      namespaced.metadata.namespace = "n".repeat(64);
      assert.deepEqual(paths(checkNames(namespaced)), ["metadata.namespace"]);
      const configMap = { kind: "ConfigMap", metadata: { name: "conjur-ca" }, data: { "ca crt": "x" } };
      assert.deepEqual(paths(checkNames(configMap)), ['data["ca crt"]']);
    });

    it("fails a StatefulSet name that is a subdomain but not a label, and a Job name over 63 characters", () => {
      assert.equal(checkNames({ kind: "StatefulSet", metadata: { name: "conjur.primary" } }).length, 1);
      assert.equal(checkNames({ kind: "Job", metadata: { name: `j${"x".repeat(63)}` } }).length, 1);
    });
  });

  describe("checkLabels", () => {
    it("passes valid labels, template labels, selectors and annotation keys", () => {
      assert.deepEqual(checkLabels(follower()), []);
      assert.deepEqual(checkLabels(followerService()), []);
    });

    it("fails a bad label value in the template, a bad selector key and a bad annotation key", () => {
      const deployment = follower();
      deployment.spec.template.metadata.labels = { ...labels, version: "1.0 beta" };
      deployment.spec.selector.matchLabels = { "app.kubernetes.io/name/x": "conjur-follower" };
      deployment.metadata.annotations = { "bad key": "x" };
      assert.deepEqual(paths(checkLabels(deployment)).sort(), [
        'metadata.annotations["bad key"]',
        'spec.selector.matchLabels["app.kubernetes.io/name/x"]',
        'spec.template.metadata.labels["version"]',
      ]);
    });

    it("reads a Service's selector as a label map", () => {
      const service = followerService();
      service.spec.selector = { app: "conjur follower" };
      assert.deepEqual(paths(checkLabels(service)), ['spec.selector["app"]']);
    });
  });

  describe("checkPorts", () => {
    it("passes named container ports, probes that name them and a Service with named ports", () => {
      assert.deepEqual(checkPorts(follower()), []);
      assert.deepEqual(checkPorts(followerService()), []);
    });

    it("fails a container port name over 15 characters and a probe naming an undeclared port", () => {
      const deployment = follower();
      const container = deployment.spec.template.spec.containers[0];
      container.ports[1].name = "ldaps-follower-port";
      container.readinessProbe.httpGet.port = "health";
      assert.deepEqual(paths(checkPorts(deployment)), [
        "spec.template.spec.containers[0].ports[1].name",
        "spec.template.spec.containers[0].readinessProbe.httpGet.port",
      ]);
    });

    it("fails a Service with two ports and one unnamed, and duplicate container port names", () => {
      const service = followerService();
      delete service.spec.ports[1].name;
      assert.deepEqual(paths(checkPorts(service)), ["spec.ports[1].name"]);
      const deployment = follower();
      deployment.spec.template.spec.containers[0].ports[1].name = "https";
      assert.deepEqual(paths(checkPorts(deployment)), ["spec.template.spec.containers[0].ports[1].name"]);
    });
  });

  describe("checkWorkloadSelector", () => {
    it("passes a Deployment whose selector matches its template", () => {
      assert.deepEqual(checkWorkloadSelector(follower()), []);
    });

    it("fails a selector that does not match the template, and an empty one", () => {
      const mismatched = follower();
      mismatched.spec.selector.matchLabels = { "app.kubernetes.io/name": "conjur-primary" };
      assert.deepEqual(paths(checkWorkloadSelector(mismatched)), ["spec.selector"]);
      const empty = follower();
      empty.spec.selector = {};
      assert.match(checkWorkloadSelector(empty)[0].message, /non-empty/);
    });
  });

  describe("checkServiceSelectors", () => {
    it("passes a Service that selects a pod template in its namespace, with declared target ports", () => {
      assert.deepEqual(checkServiceSelectors([follower(), followerService()]), []);
    });

    it("fails a Service whose pods live in another namespace, and a targetPort no container declares", () => {
      const elsewhere = followerService();
      elsewhere.metadata.namespace = "team-a";
      assert.deepEqual(paths(checkServiceSelectors([follower(), elsewhere])), ["spec.selector"]);
      const unknownTarget = followerService();
      unknownTarget.spec.ports[0].targetPort = "http";
      assert.deepEqual(paths(checkServiceSelectors([follower(), unknownTarget])), [
        "spec.ports[0].targetPort",
      ]);
    });

    it("knows the pod-name label a StatefulSet's controller gives each pod, for its ordinals only", () => {
      const statefulSet: KubeObject = {
        kind: "StatefulSet",
        metadata: { name: "conjur-leader", namespace: "conjur-system" },
        spec: {
          replicas: 2,
          template: { metadata: { labels: { app: "leader" } }, spec: { containers: [] } },
        },
      };
      const service = (pod: string): KubeObject => ({
        kind: "Service",
        metadata: { name: "leader", namespace: "conjur-system" },
        spec: { selector: { "statefulset.kubernetes.io/pod-name": pod }, ports: [{ port: 443 }] },
      });
      assert.deepEqual(checkServiceSelectors([statefulSet, service("conjur-leader-1")]), []);
      assert.deepEqual(paths(checkServiceSelectors([statefulSet, service("conjur-leader-2")])), [
        "spec.selector",
      ]);
    });

    it("ignores Services without a selector (endpoints managed elsewhere)", () => {
      const external: KubeObject = {
        kind: "Service",
        metadata: { name: "db", namespace: "x" },
        spec: { type: "ExternalName" },
      };
      assert.deepEqual(checkServiceSelectors([external]), []);
    });
  });

  describe("namespaces exist", () => {
    const cm = (namespace: string): KubeObject => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace },
    });
    const ns = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    it("accepts objects in namespaces the manifests create, built-in ones and declared prerequisites", () => {
      assert.deepEqual(
        checkNamespacesExist([ns("conjur-system"), cm("conjur-system"), cm("kube-system")]),
        [],
      );
      assert.deepEqual(checkNamespacesExist([cm("argocd")], ["argocd"]), []);
      const clusterScoped: KubeObject = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "r" },
      };
      assert.deepEqual(checkNamespacesExist([clusterScoped]), []);
    });
    it("refuses an object whose namespace nothing creates", () => {
      assert.deepEqual(
        checkNamespacesExist([ns("hubspoke-monitoring"), cm("conjur-system")]).map((p) => [p.object, p.path]),
        [["ConfigMap conjur-system/c", "metadata.namespace"]],
      );
    });
  });
});

// SpokeObservability and HubObservability through the mocks, on the real stacks: what each
// cluster's manifest holds, providers, RBAC, secrets, hardening, and promtool on the generated
// Prometheus documents of every stack.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Evaluation, RecordedResource } from "../tools/mock-engine";
import { buildManifests, clusterOf, providerClusters } from "../tools/plan-output";
import { evaluate as evaluatePolicy, stackContextFor } from "../policy/engine";
import { labelSelectorMatches } from "../policy/selectors";
import type { PlannedResource } from "../policy/types";
import { buildStackSpec, convertedSpokes, type StackSpec } from "../stacks/spec";
import {
  HUB_ALERTS,
  PRIMARY_ALERTS,
  renderPrometheusYaml,
  type PrometheusConfig,
} from "../components/observability/prometheus";
import { BACKUP_ALERTS, BACKUP_RUNBOOK_DOC } from "../components/observability/backup-alerts";
import { DOCS_URL } from "../components/observability/model";
import { hubPrometheusFiles, spokePrometheusFiles } from "../components/observability/workloads";
import { githubAnchorsOfFile } from "./support/markdown-anchors";
import {
  STACKS,
  evaluate,
  withDisasterRecovery,
  kubernetesObjects,
  plainJson,
  secretPaths,
  stackConfig,
  unwrap,
} from "./support/stacks";
import { promtoolSupportsKubernetesSd, requirePromtool, runPromtool } from "./support/promtool";
import { createTestPki, type TestPki } from "./observability/support/pki";
import {
  logPipelineProblems,
  named,
  readFluentBitYaml,
  valuesOf,
} from "./observability/support/fluent-bit-config";

type Json = any;
type Stack = (typeof STACKS)[number];

/** The validated spec of a stack file, as index.ts sees it. */
function specOf(stack: string, edit?: (config: Record<string, unknown>) => void): StackSpec {
  const config = stackConfig(stack);
  edit?.(config);
  const prefixed = Object.entries(config).filter(([k]) => k.startsWith("hubspoke:"));
  const result = buildStackSpec(
    Object.fromEntries(prefixed.map(([k, v]) => [k.slice("hubspoke:".length), v])),
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

const isObservability = (r: RecordedResource) => r.urn.includes("hubspoke:observability:");
const kindOf = (r: RecordedResource) => r.type.slice(r.type.lastIndexOf(":") + 1);
const meta = (r: RecordedResource): Json => (r.inputs as Json).metadata ?? {};

/** Kubernetes objects on one cluster (by its provider's clusterIdentifier). */
function onCluster(e: Evaluation, cluster: string): RecordedResource[] {
  const providers = providerClusters(e.resources);
  return kubernetesObjects(e).filter((r) => clusterOf(r, providers) === cluster);
}

function findObject(
  e: Evaluation,
  cluster: string,
  kind: string,
  name: string,
  namespace?: string,
): RecordedResource {
  const found = onCluster(e, cluster).filter(
    (r) =>
      kindOf(r) === kind &&
      meta(r).name === name &&
      (namespace === undefined || meta(r).namespace === namespace) &&
      !r.options.read,
  );
  assert.equal(
    found.length,
    1,
    `expected one ${kind} ${namespace ?? ""}/${name} on ${cluster}, found ${found.length}`,
  );
  return found[0];
}

const configMapData = (r: RecordedResource): Record<string, string> => (r.inputs as Json).data;

function hubPrometheusConfig(e: Evaluation, spec: StackSpec): PrometheusConfig {
  const cm = findObject(e, spec.hub.cluster, "ConfigMap", "prometheus-config", "hubspoke-monitoring");
  return YAML.parse(configMapData(cm)["prometheus.yml"]) as PrometheusConfig;
}

/** The Fluent Bit config a ConfigMap holds (its only key, fluent-bit.yaml). */
function fluentBitConfigOf(r: RecordedResource) {
  const data = configMapData(r);
  assert.deepEqual(Object.keys(data), ["fluent-bit.yaml"]);
  return readFluentBitYaml(data["fluent-bit.yaml"]);
}

/** Pod template of a workload, or undefined for objects without pods. */
const podTemplate = (r: RecordedResource): Json =>
  ["Deployment", "StatefulSet", "DaemonSet"].includes(kindOf(r))
    ? (r.inputs as Json).spec.template
    : undefined;

describe("observability components through the mocks", () => {
  const evaluations = new Map<Stack, Evaluation>();
  const specs = new Map<Stack, StackSpec>();
  let backupHub: Evaluation;
  let backupHubSpec: StackSpec;
  before(async () => {
    for (const stack of STACKS) {
      evaluations.set(stack, await evaluate(stack));
      specs.set(stack, specOf(stack));
    }
    backupHub = await evaluate("prod", withDisasterRecovery("prod"));
    backupHubSpec = specOf("prod", withDisasterRecovery("prod"));
  });
  const get = (stack: Stack) => ({ e: evaluations.get(stack)!, spec: specs.get(stack)! });

  for (const stack of STACKS) {
    describe(`stack ${stack}`, () => {
      it("puts in every converted spoke's manifest its Prometheus, its Fluent Bit DaemonSet and their RBAC", () => {
        const { e, spec } = get(stack);
        const manifests = buildManifests(e);
        assert.ok(convertedSpokes(spec).length > 0);
        for (const spoke of convertedSpokes(spec)) {
          const docs: Json[] = YAML.parseAllDocuments(manifests.get(spoke.cluster) ?? "").map((d) =>
            d.toJS(),
          );
          const has = (kind: string, name: string, namespace?: string) =>
            docs.filter(
              (d) => d.kind === kind && d.metadata.name === name && d.metadata.namespace === namespace,
            );
          const one = (kind: string, name: string, namespace?: string) => {
            const found = has(kind, name, namespace);
            assert.equal(found.length, 1, `${spoke.cluster}: ${kind} ${namespace ?? ""}/${name}`);
            return found[0];
          };
          one("Namespace", "hubspoke-monitoring");
          one("Namespace", "hubspoke-logging");
          one("Deployment", "prometheus", "hubspoke-monitoring");
          one("ConfigMap", "prometheus-config", "hubspoke-monitoring");
          one("ConfigMap", "prometheus-web", "hubspoke-monitoring");
          one("Secret", "prometheus-tls", "hubspoke-monitoring");
          one("Service", "prometheus", "hubspoke-monitoring");
          one("DaemonSet", "fluent-bit", "hubspoke-logging");
          one("ConfigMap", "fluent-bit-config", "hubspoke-logging");
          for (const [role, sa, ns] of [
            ["hubspoke-prometheus", "prometheus", "hubspoke-monitoring"],
            ["hubspoke-fluent-bit", "fluent-bit", "hubspoke-logging"],
          ] as const) {
            one("ServiceAccount", sa, ns);
            one("ClusterRole", role);
            const binding = one("ClusterRoleBinding", role);
            assert.deepEqual(binding.roleRef, {
              apiGroup: "rbac.authorization.k8s.io",
              kind: "ClusterRole",
              name: role,
            });
            assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: sa, namespace: ns }]);
          }
        }
      });

      it("gives the hub one federate job per converted spoke, over mTLS to its monitoring hostname on 9090", () => {
        const { e, spec } = get(stack);
        const cfg = hubPrometheusConfig(e, spec);
        const federate = cfg.scrape_configs.filter((j) => j.job_name.startsWith("federate-"));
        assert.deepEqual(
          federate.map((j) => j.job_name),
          convertedSpokes(spec).map((s) => `federate-${s.name}`),
        );
        for (const [i, spoke] of convertedSpokes(spec).entries()) {
          const job = federate[i];
          assert.equal(job.honor_labels, true);
          assert.equal(job.scheme, "https");
          assert.deepEqual(job.static_configs?.[0].targets, [`${spoke.monitoring.hostname}:9090`]);
          assert.equal(job.tls_config?.server_name, spoke.monitoring.hostname);
          assert.equal(job.tls_config?.cert_file, "/etc/prometheus/tls/tls.crt");
          assert.ok((job.params?.["match[]"] ?? []).length > 0);
        }
        // The Open Source primary runs in the hub; an Enterprise Leader runs outside Kubernetes.
        assert.equal(
          cfg.scrape_configs.some((j) => j.job_name === "conjur-primary"),
          spec.conjur.edition === "oss",
          "the primary is scraped exactly when it runs in the hub",
        );
        const rules = YAML.parse(
          configMapData(
            findObject(e, spec.hub.cluster, "ConfigMap", "prometheus-config", "hubspoke-monitoring"),
          )["rules.yml"],
        );
        const alerts = rules.groups.flatMap((g: Json) => g.rules);
        assert.equal(
          alerts.filter((r: Json) => r.alert === "SpokeAbsent").length,
          convertedSpokes(spec).length,
          "one SpokeAbsent rule per converted spoke",
        );
      });

      it("runs the hub's log sink: a Deployment behind the LoadBalancer Service log-sink on 24224, admitting the spokes' egress CIDRs only", () => {
        const { e, spec } = get(stack);
        const hub = spec.hub.cluster;
        const sink = findObject(e, hub, "Deployment", "log-sink", "hubspoke-logging");
        const pod = (sink.inputs as Json).spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true, "restricted: the sink reads no host files");
        assert.equal(pod.automountServiceAccountToken, false);
        const service = findObject(e, hub, "Service", "log-sink", "hubspoke-logging").inputs as Json;
        assert.equal(service.spec.type, "LoadBalancer");
        assert.equal(service.spec.externalTrafficPolicy, "Local");
        assert.deepEqual(
          service.spec.ports.map((p: Json) => p.port),
          [24224],
        );
        assert.deepEqual(
          service.spec.loadBalancerSourceRanges,
          convertedSpokes(spec).flatMap((s) => s.egressCidrs),
          "the cloud firewall admits the spokes only",
        );
        const namespace = findObject(e, hub, "Namespace", "hubspoke-logging").inputs as Json;
        assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        const policy = findObject(e, hub, "NetworkPolicy", "log-sink", "hubspoke-logging").inputs as Json;
        assert.deepEqual(policy.spec.ingress, [
          {
            from: convertedSpokes(spec)
              .flatMap((s) => s.egressCidrs)
              .map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ protocol: "TCP", port: 24224 }],
          },
        ]);
        const conf = fluentBitConfigOf(
          findObject(e, hub, "ConfigMap", "log-sink-config", "hubspoke-logging"),
        );
        const forward = named(conf.pipeline.inputs, "forward");
        assert.equal(forward.port, 24224);
        assert.equal(forward.shared_key, "${FLUENT_FORWARD_SHARED_KEY}");
        assert.equal(forward["tls.verify_client_cert"], "On");
        assert.equal(conf.pipeline.outputs[0].name, "stdout", "no stack sets a search cluster yet");
      });

      it("puts every observability Kubernetes object on its own cluster's explicit provider", () => {
        const { e, spec } = get(stack);
        const objects = kubernetesObjects(e).filter(isObservability);
        assert.ok(objects.length > 30);
        const clusterFor = (r: RecordedResource): string => {
          const component = /hubspoke:observability:(Hub|Spoke)Observability\$/.exec(r.urn);
          if (component?.[1] === "Hub") return spec.hub.cluster;
          const spoke = convertedSpokes(spec).find((s) => r.name.startsWith(`observability-${s.name}-`));
          assert.ok(spoke, `${r.urn} belongs to no converted spoke`);
          return spoke.cluster;
        };
        for (const r of objects) {
          assert.match(
            r.provider ?? "",
            new RegExp(`pulumi:providers:kubernetes::k8s-${clusterFor(r)}::`),
            `${r.urn} has provider ${r.provider}`,
          );
        }
      });

      it("grants named verbs on named resources only: no wildcard, no cluster-admin", () => {
        const { e } = get(stack);
        const rbac = kubernetesObjects(e).filter(isObservability);
        const roles = rbac.filter((r) => ["Role", "ClusterRole"].includes(kindOf(r)));
        assert.ok(roles.length >= 3);
        for (const role of roles) {
          for (const rule of (role.inputs as Json).rules) {
            for (const list of ["apiGroups", "resources", "verbs"]) {
              assert.ok(
                (rule[list] as string[]).every((v) => !v.includes("*")),
                `${meta(role).name}: ${list} ${JSON.stringify(rule[list])}`,
              );
            }
            assert.deepEqual(rule.verbs, ["get", "list", "watch"]);
          }
        }
        for (const binding of rbac.filter((r) => kindOf(r).endsWith("Binding"))) {
          assert.notEqual((binding.inputs as Json).roleRef.name, "cluster-admin");
        }
      });

      it("generates Fluent Bit configs that lose nothing, forwarding to the hub's log sink over verified TLS, records labelled like the spoke's metrics", () => {
        const { e, spec } = get(stack);
        for (const spoke of convertedSpokes(spec)) {
          const config = fluentBitConfigOf(
            findObject(e, spoke.cluster, "ConfigMap", "fluent-bit-config", "hubspoke-logging"),
          );
          assert.deepEqual(logPipelineProblems(config), [], spoke.name);
          const forward = named(config.pipeline.outputs, "forward");
          assert.equal(forward.host, spec.hub.logSinkHostname);
          assert.equal(forward.port, 24224);
          assert.equal(forward["tls.vhost"], spec.hub.logSinkHostname);
          // Logs and metrics of a spoke join on cluster and region: the record fields hold exactly
          // the spoke Prometheus' external_labels.
          const prometheus = YAML.parse(
            configMapData(
              findObject(e, spoke.cluster, "ConfigMap", "prometheus-config", "hubspoke-monitoring"),
            )["prometheus.yml"],
          ) as PrometheusConfig;
          const labels = prometheus.global.external_labels;
          assert.deepEqual(valuesOf(named(config.pipeline.filters, "record_modifier").record), [
            `cluster ${labels.cluster}`,
            `region ${labels.region}`,
          ]);
          assert.equal(labels.cluster, spoke.name, "the spoke's name, not its cluster key");
        }
        const sink = fluentBitConfigOf(
          findObject(e, spec.hub.cluster, "ConfigMap", "log-sink-config", "hubspoke-logging"),
        );
        assert.deepEqual(logPipelineProblems(sink), []);
      });

      it("scrapes each spoke's follower (Enterprise) over HTTPS verified with the Leader's CA, and serves the spoke's API only with mTLS", () => {
        const { e, spec } = get(stack);
        for (const spoke of convertedSpokes(spec)) {
          const data = configMapData(
            findObject(e, spoke.cluster, "ConfigMap", "prometheus-config", "hubspoke-monitoring"),
          );
          const cfg = YAML.parse(data["prometheus.yml"]) as PrometheusConfig;
          assert.deepEqual(cfg.global.external_labels, { cluster: spoke.name, region: spoke.region });
          const follower = cfg.scrape_configs.find((j) => j.job_name === "conjur-follower");
          if (spec.conjur.edition === "oss") {
            assert.equal(follower, undefined, "no follower with Conjur Open Source");
          } else {
            assert.equal(follower?.scheme, "https");
            assert.deepEqual(follower?.tls_config, {
              ca_file: "/etc/prometheus/tls/follower-ca.crt",
              server_name: "conjur-follower.conjur-system.svc",
              insecure_skip_verify: false,
              min_version: "TLS12",
            });
            // The Kubernetes Follower's pods listen on 9443 behind Service port 443.
            assert.match(JSON.stringify(follower?.relabel_configs), /\$1:9443/);
            const tls = findObject(e, spoke.cluster, "Secret", "prometheus-tls", "hubspoke-monitoring")
              .inputs as Json;
            assert.equal(
              (unwrap(tls.stringData) as Json)["follower-ca.crt"],
              spec.conjur.leader.placement === "external" ? spec.conjur.leader.caCertificate : undefined,
            );
          }
          const web = YAML.parse(
            configMapData(findObject(e, spoke.cluster, "ConfigMap", "prometheus-web", "hubspoke-monitoring"))[
              "web.yml"
            ],
          );
          assert.equal(web.tls_server_config.client_auth_type, "RequireAndVerifyClientCert");
          const deployment = (
            findObject(e, spoke.cluster, "Deployment", "prometheus", "hubspoke-monitoring").inputs as Json
          ).spec.template.spec;
          assert.ok(deployment.containers[0].args.includes("--web.config.file=/etc/prometheus/web/web.yml"));
          assert.ok(deployment.containers[0].readinessProbe.tcpSocket, "kubelet has no client certificate");
          const service = findObject(e, spoke.cluster, "Service", "prometheus", "hubspoke-monitoring")
            .inputs as Json;
          assert.equal(service.spec.type, spoke.monitoring.exposure);
          assert.deepEqual(
            service.spec.ports.map((p: Json) => p.port),
            [9090],
          );
        }
      });

      it("keeps keys, the shared key and credentials in Secrets: no other observability object holds a secret", () => {
        const { e, spec } = get(stack);
        const leaks = kubernetesObjects(e)
          .filter(isObservability)
          .filter((r) => kindOf(r) !== "Secret")
          .flatMap((r) => secretPaths(r.inputs).map((p) => `${r.urn}: ${p}`));
        assert.deepEqual(leaks, []);
        const keys = e.resources.filter(
          (r) => r.type === "random:index/randomPassword:RandomPassword" && isObservability(r),
        );
        assert.equal(keys.length, 1, "one shared key for the whole estate");
        assert.equal(keys[0].inputs["keepers"], undefined);
        const held = [
          findObject(e, spec.hub.cluster, "Secret", "log-sink-shared-key", "hubspoke-logging"),
          ...convertedSpokes(spec).map((s) =>
            findObject(e, s.cluster, "Secret", "fluent-bit-shared-key", "hubspoke-logging"),
          ),
        ];
        for (const secret of held) assert.deepEqual(secretPaths(secret.inputs), ["stringData"]);
        const values = new Set(
          held.map((s) => (unwrap((s.inputs as Json).stringData) as Json)["shared-key"]),
        );
        assert.equal(values.size, 1, "the sink and every forwarder hold the same key");
        for (const name of ["prometheus-tls", "fluent-bit-tls"]) {
          for (const spoke of convertedSpokes(spec)) {
            const secret = findObject(e, spoke.cluster, "Secret", name);
            assert.deepEqual(secretPaths(secret.inputs), ["stringData"], name);
          }
        }
        assert.doesNotMatch(plainJson(e.outputs["federation"]), /PRIVATE KEY|PLACEHOLDER-password/);
      });

      it("hardens every observability pod: requests and limits, probes, a pinned image, no escalation, all capabilities dropped", () => {
        const { e } = get(stack);
        const workloads = kubernetesObjects(e)
          .filter(isObservability)
          .filter((r) => podTemplate(r) !== undefined);
        assert.ok(workloads.length >= 4);
        for (const w of workloads) {
          const pod = podTemplate(w).spec;
          const who = `${kindOf(w)} ${meta(w).name}`;
          assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", who);
          for (const c of pod.containers) {
            assert.ok(c.resources.requests.cpu && c.resources.requests.memory, who);
            assert.ok(c.resources.limits.cpu && c.resources.limits.memory, who);
            assert.ok(c.readinessProbe && c.livenessProbe, who);
            assert.match(c.image, /:[^:/]+$/, who);
            assert.doesNotMatch(c.image, /:latest$/, who);
            assert.equal(c.securityContext.allowPrivilegeEscalation, false, who);
            assert.equal(c.securityContext.privileged, false, who);
            assert.equal(c.securityContext.readOnlyRootFilesystem, true, who);
            assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, who);
          }
          // A token only where the pod calls the API, and then it says so.
          if (pod.automountServiceAccountToken !== false) {
            assert.equal(podTemplate(w).metadata.annotations["hubspoke.io/calls-kube-api"], "true", who);
          }
        }
      });

      it("runs as root only in Fluent Bit, which reads the node's log files read-only and writes only its own buffer", () => {
        const { e, spec } = get(stack);
        const rootPods = kubernetesObjects(e)
          .filter(isObservability)
          .filter(
            (r) => podTemplate(r) !== undefined && podTemplate(r).spec.securityContext.runAsNonRoot !== true,
          );
        assert.deepEqual(
          [...new Set(rootPods.map((r) => `${kindOf(r)} ${meta(r).namespace}/${meta(r).name}`))],
          ["DaemonSet hubspoke-logging/fluent-bit"],
        );
        for (const spoke of convertedSpokes(spec)) {
          const pod = (
            findObject(e, spoke.cluster, "DaemonSet", "fluent-bit", "hubspoke-logging").inputs as Json
          ).spec.template.spec;
          const hostPaths = pod.volumes.filter((v: Json) => v.hostPath).map((v: Json) => v.name);
          assert.deepEqual(hostPaths, ["host-logs", "state"]);
          const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: Json) => [m.name, m]));
          assert.equal(mounts["host-logs"].readOnly, true);
          assert.equal(mounts["state"].mountPath, "/var/fluent-bit/state");
          assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC);
          const ns = findObject(e, spoke.cluster, "Namespace", "hubspoke-logging").inputs as Json;
          assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
          assert.equal(
            findObject(e, spoke.cluster, "Namespace", "hubspoke-monitoring").inputs.metadata &&
              (findObject(e, spoke.cluster, "Namespace", "hubspoke-monitoring").inputs as Json).metadata
                .labels["pod-security.kubernetes.io/enforce"],
            "restricted",
          );
        }
      });

      it("denies by default in every observability namespace and selects every observability pod with a NetworkPolicy", () => {
        const { e } = get(stack);
        const objects = kubernetesObjects(e).filter(isObservability);
        const policies = objects.filter((r) => kindOf(r) === "NetworkPolicy");
        const providers = providerClusters(e.resources);
        for (const ns of objects.filter((r) => kindOf(r) === "Namespace")) {
          const cluster = clusterOf(ns, providers);
          const deny = policies.find(
            (p) =>
              clusterOf(p, providers) === cluster &&
              meta(p).namespace === meta(ns).name &&
              meta(p).name === "default-deny",
          );
          assert.deepEqual(
            (deny?.inputs as Json)?.spec,
            { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            `${cluster}/${meta(ns).name}`,
          );
        }
        for (const w of objects.filter((r) => podTemplate(r) !== undefined)) {
          const labels = podTemplate(w).metadata.labels;
          const selecting = policies.filter(
            (p) =>
              clusterOf(p, providers) === clusterOf(w, providers) &&
              meta(p).namespace === meta(w).namespace &&
              meta(p).name !== "default-deny" &&
              labelSelectorMatches((p.inputs as Json).spec.podSelector, labels),
          );
          assert.equal(selecting.length, 1, `${kindOf(w)} ${meta(w).namespace}/${meta(w).name}`);
          const spec = (selecting[0].inputs as Json).spec;
          assert.ok(
            spec.egress.some((r: Json) => JSON.stringify(r).includes('"port":53')),
            "DNS",
          );
        }
      });

      it("leaves nothing for the policy pack to report on the observability resources but the spoke Prometheus' open cloud firewall", () => {
        const { e } = get(stack);
        const providers = providerClusters(e.resources);
        const planned: PlannedResource[] = e.resources
          .filter((r) => !r.options.read)
          .map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            props: r.inputs,
            cluster: clusterOf(r, providers),
            provider: r.provider ?? null,
            opts: { protect: r.options.protect, retainOnDelete: r.options.retainOnDelete },
          }));
        const violations = evaluatePolicy(planned, stackContextFor(stack)).filter((v) =>
          v.urn.includes("hubspoke:observability:"),
        );
        // The spec does not know the hub's egress addresses, so a spoke Prometheus' LoadBalancer
        // admits any source at the cloud firewall (mTLS decides); the advisory says so, rightly.
        const knownOpenFirewall = (v: (typeof violations)[number]) =>
          v.level === "advisory" &&
          v.rule === "loadbalancer-source-ranges" &&
          /SpokeObservability\$kubernetes:core\/v1:Service::observability-[a-z0-9-]+-prometheus-service$/.test(
            v.urn,
          );
        assert.deepEqual(
          violations
            .filter((v) => !knownOpenFirewall(v))
            .map((v) => `${v.level} ${v.rule} ${v.urn}: ${v.message}`),
          [],
        );
      });

      it("exports, per converted spoke, the follower health URL and the federation target, and the hub Prometheus URL", () => {
        const { e, spec } = get(stack);
        assert.deepEqual(
          e.outputs["federation"],
          Object.fromEntries(
            convertedSpokes(spec).map((s) => [
              s.name,
              {
                ...(spec.conjur.edition === "enterprise"
                  ? { followerHealth: "https://conjur-follower.conjur-system.svc.cluster.local/health" }
                  : {}),
                federationTarget: `https://${s.monitoring.hostname}:9090/federate`,
              },
            ]),
          ),
        );
        assert.equal(e.outputs["hubPrometheusUrl"], "http://prometheus.hubspoke-monitoring.svc:9090");
        assert.equal(e.outputs["logSinkEndpoint"], `${spec.hub.logSinkHostname}:24224`);
      });
    });
  }

  /** The shipped stacks, and prod's Open Source twin with backups, whose hub loads the backup alerts too. */
  const withBackupHub = (): Array<{ stack: string; e: Evaluation; spec: StackSpec }> => [
    ...STACKS.map((stack) => ({ stack, ...get(stack) })),
    { stack: "prod (oss, backup)", e: backupHub, spec: backupHubSpec },
  ];
  const docsDir = path.join(__dirname, "..", "docs");
  /** docs/<file> exists and has the heading whose GitHub anchor is `anchor`. */
  const assertDocSection = (where: string, file: string, anchor: string) => {
    assert.ok(fs.existsSync(path.join(docsDir, file)), `${where}: no docs/${file}`);
    const anchors = githubAnchorsOfFile(path.join(docsDir, file));
    assert.ok(anchors.has(anchor), `${where}: no heading #${anchor} in docs/${file}`);
  };

  it("links the runbook of every alert the hubs load to a section of the docs (observability.md; backups: disaster-recovery.md)", () => {
    for (const { stack, e, spec } of withBackupHub()) {
      const rules = YAML.parse(
        configMapData(
          findObject(e, spec.hub.cluster, "ConfigMap", "prometheus-config", "hubspoke-monitoring"),
        )["rules.yml"],
      );
      for (const rule of rules.groups.flatMap((g: Json) => g.rules)) {
        const match = /^docs\/([a-z-]+\.md)#(.+)$/.exec(String(rule.annotations.runbook));
        assert.ok(match, `${stack} ${rule.alert}: runbook ${rule.annotations.runbook}`);
        const expectedDoc = Object.values(BACKUP_ALERTS).includes(rule.alert)
          ? BACKUP_RUNBOOK_DOC
          : "observability.md";
        assert.equal(match[1], expectedDoc, `${stack} ${rule.alert}`);
        assertDocSection(`${stack} ${rule.alert}`, match[1], match[2]);
      }
    }
  });

  it("links every alert of every Prometheus rules file to a section of the docs on GitHub (runbook_url: troubleshooting.md; backups: disaster-recovery.md)", () => {
    for (const { stack, e, spec } of withBackupHub()) {
      // Every rules file of every cluster: the hub's alerts, the spokes' recording rules.
      const rules = kubernetesObjects(e)
        .filter((r) => kindOf(r) === "ConfigMap" && configMapData(r)?.["rules.yml"] !== undefined)
        .flatMap((r) => YAML.parse(configMapData(r)["rules.yml"]).groups.flatMap((g: Json) => g.rules));
      const alerts = rules.filter((rule: Json) => rule.alert !== undefined);
      // Open Source: no follower alerts (no followers) but the primary's; Enterprise: all hub
      // alerts; a hub with backups: the backup alerts as well (and only that hub).
      const expected = Object.keys(HUB_ALERTS).length + (spec.conjur.edition === "oss" ? -2 + 1 : 0);
      assert.ok(alerts.length >= expected, `${stack}: the hub's alerts are there`);
      for (const alert of Object.values(BACKUP_ALERTS)) {
        const count = alerts.filter((rule: Json) => rule.alert === alert).length;
        assert.equal(count, spec.backup ? 1 : 0, `${stack}: ${alert}`);
      }
      for (const rule of alerts) {
        const url = String(rule.annotations?.runbook_url);
        const doc = Object.values(BACKUP_ALERTS).includes(rule.alert)
          ? BACKUP_RUNBOOK_DOC
          : "troubleshooting.md";
        assert.ok(url.startsWith(`${DOCS_URL}/${doc}#`), `${stack} ${rule.alert}: runbook_url ${url}`);
        assertDocSection(`${stack} ${rule.alert}`, doc, url.slice(`${DOCS_URL}/${doc}#`.length));
      }
    }
    // Every alert the builders can write has its section, fired in this estate or not.
    for (const alert of [...Object.values(HUB_ALERTS), ...Object.values(PRIMARY_ALERTS)]) {
      assertDocSection(alert, "troubleshooting.md", alert.toLowerCase());
    }
    for (const alert of Object.values(BACKUP_ALERTS)) {
      assertDocSection(alert, BACKUP_RUNBOOK_DOC, alert.toLowerCase());
    }
  });

  it("gives a pending spoke nothing: no objects on its cluster, no federate job, no forwarder", () => {
    const { e, spec } = get("prod");
    const pending = spec.spokes.filter((s) => !s.converted);
    assert.deepEqual(
      pending.map((s) => s.name),
      ["web-euc1"],
    );
    assert.deepEqual(onCluster(e, "prod-web-euc1"), []);
    assert.ok(!e.resources.some((r) => r.name.startsWith("observability-web-euc1")));
    assert.ok(!hubPrometheusConfig(e, spec).scrape_configs.some((j) => j.job_name === "federate-web-euc1"));
    assert.ok(!Object.keys(e.outputs["federation"] as object).includes("web-euc1"));
  });

  it("exposes a spoke's Prometheus as ClusterIP when asked, and never as NodePort", async () => {
    const edit = (c: Json) => {
      c["hubspoke:spokes"][1].monitoring = {
        exposure: "ClusterIP",
        hostname: "metrics.web.staging.acme.internal",
      };
    };
    const e = await evaluate("staging", edit);
    const spec = specOf("staging", edit);
    const web = findObject(e, "stg-web", "Service", "prometheus", "hubspoke-monitoring").inputs as Json;
    assert.equal(web.spec.type, "ClusterIP");
    assert.equal(web.spec.externalTrafficPolicy, undefined);
    const payments = findObject(e, "stg-payments", "Service", "prometheus", "hubspoke-monitoring")
      .inputs as Json;
    assert.equal(payments.spec.type, "LoadBalancer");
    const federateWeb = hubPrometheusConfig(e, spec).scrape_configs.find(
      (j) => j.job_name === "federate-web",
    );
    assert.deepEqual(federateWeb?.static_configs?.[0].targets, ["metrics.web.staging.acme.internal:9090"]);
    const services = kubernetesObjects(e).filter((r) => isObservability(r) && kindOf(r) === "Service");
    assert.ok(services.every((s) => (s.inputs as Json).spec.type !== "NodePort"));
  });

  it("writes an Elasticsearch sink's user:password from the named secret config key into a Secret, and only references it in the config", async () => {
    const e = await evaluate(
      "staging",
      (c: Json) => {
        c["hubspoke:hub"].logSink = {
          kind: "elasticsearch",
          host: "es.logging.acme.internal",
          port: 9243,
          index: "conjur-staging",
          credentialsSecret: "logSinkCredentials",
        };
        c["hubspoke:logSinkCredentials"] = "conjur-writer:PLACEHOLDER-es-password";
      },
      ["hubspoke:logSinkCredentials"],
    );
    const destination = findObject(e, "stg-mgmt", "Secret", "log-sink-destination", "hubspoke-logging");
    assert.deepEqual(secretPaths(destination.inputs), ["stringData"]);
    assert.deepEqual(unwrap((destination.inputs as Json).stringData), {
      username: "conjur-writer",
      password: "PLACEHOLDER-es-password",
    });
    const conf = configMapData(findObject(e, "stg-mgmt", "ConfigMap", "log-sink-config", "hubspoke-logging"))[
      "fluent-bit.yaml"
    ];
    const output = readFluentBitYaml(conf).pipeline.outputs[0];
    assert.equal(output.name, "es");
    assert.equal(output.host, "es.logging.acme.internal");
    assert.equal(output.http_user, "${LOG_SINK_USER}");
    assert.equal(output.http_passwd, "${LOG_SINK_PASSWORD}");
    assert.doesNotMatch(conf, /PLACEHOLDER-es-password|conjur-writer/);
    const env = (findObject(e, "stg-mgmt", "Deployment", "log-sink", "hubspoke-logging").inputs as Json).spec
      .template.spec.containers[0].env;
    assert.deepEqual(
      env.map((v: Json) => [v.name, v.valueFrom.secretKeyRef.name]),
      [
        ["FLUENT_FORWARD_SHARED_KEY", "log-sink-shared-key"],
        ["LOG_SINK_USER", "log-sink-destination"],
        ["LOG_SINK_PASSWORD", "log-sink-destination"],
      ],
    );
    const egress = (findObject(e, "stg-mgmt", "NetworkPolicy", "log-sink", "hubspoke-logging").inputs as Json)
      .spec.egress;
    assert.ok(
      egress.some((r: Json) => r.ports?.[0]?.port === 9243),
      "egress to the search cluster's port",
    );
    const leaks = kubernetesObjects(e)
      .filter((r) => kindOf(r) !== "Secret")
      .flatMap((r) => secretPaths(r.inputs).map((p) => `${r.urn}: ${p}`));
    assert.deepEqual(leaks, []);
  });

  it("grows with the estate: a new spoke gets its own Prometheus and forwarder, and the hub a federate job for it", async () => {
    const edit = (c: Json) => {
      c["hubspoke:clusters"]["stg-batch"] = {
        context: "stg-batch",
        apiServer: "https://api.stg-batch.acme.internal:6443",
      };
      c["hubspoke:spokes"].push({
        name: "batch",
        cluster: "stg-batch",
        region: "eu-west-1",
        podCidr: "10.130.0.0/16",
        phase: 1,
      });
    };
    const e = await evaluate("staging", edit);
    const spec = specOf("staging", edit);
    findObject(e, "stg-batch", "Deployment", "prometheus", "hubspoke-monitoring");
    findObject(e, "stg-batch", "DaemonSet", "fluent-bit", "hubspoke-logging");
    assert.deepEqual(
      hubPrometheusConfig(e, spec)
        .scrape_configs.filter((j) => j.job_name.startsWith("federate-"))
        .map((j) => j.job_name),
      ["federate-payments", "federate-web", "federate-batch"],
    );
    const before = new Set(
      get("staging")
        .e.resources.filter(isObservability)
        .map((r) => r.urn),
    );
    const after = new Set(e.resources.map((r) => r.urn));
    assert.deepEqual(
      [...before].filter((u) => !after.has(u)),
      [],
    );
  });
});

describe("observability: promtool on the Prometheus documents the real stacks generate", function () {
  let dir: string;
  let pki: TestPki;
  before(function () {
    requirePromtool(); // fails (never skips) with install instructions when promtool is missing
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hubspoke-stack-promtool-"));
    pki = createTestPki(path.join(dir, "pki"));
  });
  after(function () {
    if (dir !== undefined && process.env.KEEP_TMP !== "1") fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Debian's promtool lacks Kubernetes discovery: a static target stands in for it, nothing else changes. */
  function checkable(cfg: PrometheusConfig): PrometheusConfig {
    if (promtoolSupportsKubernetesSd()) return cfg;
    return {
      ...cfg,
      scrape_configs: cfg.scrape_configs.map(({ kubernetes_sd_configs: sd, ...job }) =>
        sd === undefined ? job : { ...job, static_configs: [{ targets: ["127.0.0.1:1"] }] },
      ),
    };
  }

  for (const stack of STACKS) {
    it(`accepts every Prometheus config, rules file and web config of stack ${stack}`, async () => {
      const e = await evaluate(stack);
      const providers = providerClusters(e.resources);
      const configMaps = kubernetesObjects(e).filter(
        (r) => isObservability(r) && kindOf(r) === "ConfigMap" && meta(r).namespace === "hubspoke-monitoring",
      );
      const configs = configMaps.filter((r) => meta(r).name === "prometheus-config");
      const spec = specOf(stack);
      assert.equal(configs.length, 1 + convertedSpokes(spec).length, "the hub's and one per converted spoke");
      let kubernetesSdJobs = 0;
      for (const cm of configs) {
        const cluster = clusterOf(cm, providers) ?? "unknown";
        const data = configMapData(cm);
        const cfg = YAML.parse(data["prometheus.yml"]) as PrometheusConfig;
        kubernetesSdJobs += cfg.scrape_configs.filter((j) => j.kubernetes_sd_configs !== undefined).length;
        const configFile = path.join(dir, `${stack}-${cluster}-prometheus.yml`);
        fs.writeFileSync(configFile, renderPrometheusYaml(checkable(cfg)));
        const config = runPromtool(["check", "config", "--syntax-only", configFile]);
        assert.equal(config.status, 0, config.transcript);
        const rulesFile = path.join(dir, `${stack}-${cluster}-rules.yml`);
        fs.writeFileSync(rulesFile, data["rules.yml"]);
        const rules = runPromtool(["check", "rules", rulesFile]);
        assert.equal(rules.status, 0, rules.transcript);
        assert.match(rules.stdout, /SUCCESS: \d+ rules found/, rules.transcript);
      }
      // Hub: the Open Source primary; each spoke: annotated pods, and its follower (Enterprise).
      const oss = spec.conjur.edition === "oss";
      assert.equal(kubernetesSdJobs, (oss ? 1 : 0) + (oss ? 1 : 2) * convertedSpokes(spec).length);
      for (const cm of configMaps.filter((r) => meta(r).name === "prometheus-web")) {
        const web = YAML.parse(configMapData(cm)["web.yml"]);
        // The same document, its file paths pointed at certificates that exist here.
        web.tls_server_config.cert_file = pki.serverCert;
        web.tls_server_config.key_file = pki.serverKey;
        web.tls_server_config.client_ca_file = pki.caCert;
        const file = path.join(dir, `${stack}-${clusterOf(cm, providers) ?? "unknown"}-web.yml`);
        fs.writeFileSync(file, renderPrometheusYaml(web));
        const result = runPromtool(["check", "web-config", file]);
        assert.equal(result.status, 0, result.transcript);
      }
    });
  }

  it("accepts the durations the spec admits in every form (the builders pass them on unchecked)", () => {
    const monitoring = { scrapeInterval: "1m30s", federationInterval: "1h5m", federationTimeout: "65m" };
    const spec = specOf("staging", (c) => (c["hubspoke:monitoring"] = monitoring));
    const spoke = convertedSpokes(spec)[0];
    const configs = {
      hub: hubPrometheusFiles(spec, convertedSpokes(spec)),
      spoke: spokePrometheusFiles(spec, spoke),
    };
    for (const [side, files] of Object.entries(configs)) {
      const cfg = YAML.parse(files.prometheusYaml) as PrometheusConfig;
      assert.equal(cfg.global.scrape_interval, side === "hub" ? "1h5m" : "1m30s");
      const configFile = path.join(dir, `durations-${side}-prometheus.yml`);
      fs.writeFileSync(configFile, renderPrometheusYaml(checkable(cfg)));
      const result = runPromtool(["check", "config", "--syntax-only", configFile]);
      assert.equal(result.status, 0, result.transcript);
    }
  });
});

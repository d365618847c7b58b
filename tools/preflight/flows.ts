// Candidate connections, inferred from what the inventory shows (no flow logs). Each one crosses a
// tenant namespace's boundary; docs/conversion.md lists the sources and what they cannot see.
//   ingress    ingress-controller pods -> the pods behind every Service an Ingress routes to
//   scrape     Prometheus pods (the cluster's and the stack's) -> pods annotated prometheus.io/scrape
//              and container ports named *metrics* / http-envoy-prom
//   caller     a pod whose env, command or args name `<service>.<namespace>` -> that Service's pods
//   declared   an existing ingress rule that names another namespace -> the pods it protects
//   dns        every pod -> CoreDNS (kube-system, k8s-app=kube-dns) UDP 53; NodeLocal DNSCache when a
//              node-local-dns DaemonSet exists, at its -localip address
//   kube-api   pods whose ServiceAccount a RoleBinding names (or annotated hubspoke.io/calls-kube-api)
//              -> the API server on 443
//   mesh       pods with an istio-proxy sidecar -> istiod 15012
//   aws        pods with AWS_CONTAINER_CREDENTIALS_FULL_URI -> the EKS Pod Identity agent
//   external   IP addresses and URLs in env, command and args -> that address and port
//   conjur     applications of onboarded tenants -> Conjur: the new follower, or the hub (a flow the stack adds)
import type { StackSpec } from "../../stacks/spec";
import { CONJUR_NAMESPACE, FOLLOWER_DEPLOYMENT, FOLLOWER_POD_HTTPS_PORT } from "../../components/naming";
import type { KubeObject, Inventory, Json, WorkloadRef } from "./inventory";
import {
  selectorMatches,
  type ContainerPort,
  type Endpoint,
  type PodEndpoint,
  type Protocol,
} from "./netpol";
import { IPV4_ADDRESS } from "./addresses";

export type FlowSource =
  "ingress" | "scrape" | "caller" | "declared" | "dns" | "kube-api" | "mesh" | "aws" | "external" | "conjur";

/** One end of a flow: a workload's pods, or an address. */
export interface FlowEnd {
  readonly endpoint: Endpoint;
  /** `ingress-nginx/Deployment ingress-nginx-controller`, or `10.50.12.34`. */
  readonly label: string;
  readonly workload?: WorkloadRef;
}

export interface Flow {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  readonly port: number;
  readonly protocol: Protocol;
  readonly source: FlowSource;
  /** Where the flow was inferred from, for the report. */
  readonly evidence: string;
  /** A flow the conversion adds (it did not exist before): it must be allowed, not merely kept. */
  readonly added?: boolean;
}

const asRecord = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The pod spec and pod metadata of a pod-bearing object. */
export function podSpecOf(object: KubeObject): { spec: Json; metadata: Json } {
  const root = object as unknown as Json;
  const path =
    object.kind === "Pod"
      ? [root]
      : object.kind === "CronJob"
        ? [asRecord(asRecord(asRecord(object.spec)?.["jobTemplate"])?.["spec"])?.["template"]]
        : [asRecord(object.spec)?.["template"]];
  const holder = asRecord(path[0]) ?? {};
  return { spec: asRecord(holder["spec"]) ?? {}, metadata: asRecord(holder["metadata"]) ?? {} };
}

export function containersOfSpec(spec: Json): Json[] {
  return [...asArray(spec["initContainers"]), ...asArray(spec["containers"])]
    .map(asRecord)
    .filter((c): c is Json => c !== undefined);
}

function containerPorts(spec: Json): ContainerPort[] {
  return containersOfSpec(spec).flatMap((c) =>
    asArray(c["ports"]).flatMap((p) => {
      const port = asRecord(p);
      if (!port || typeof port["containerPort"] !== "number") return [];
      return [
        {
          ...(str(port["name"]) ? { name: str(port["name"]) } : {}),
          containerPort: port["containerPort"],
          protocol: (str(port["protocol"]) as Protocol | undefined) ?? "TCP",
        },
      ];
    }),
  );
}

/** A workload as a flow end: its first live pod, else its template (a CronJob between runs). */
export interface WorkloadView {
  readonly ref: WorkloadRef;
  readonly object: KubeObject;
  readonly pods: readonly KubeObject[];
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: Json;
  readonly end: FlowEnd;
}

export function workloadView(inventory: Inventory, object: KubeObject): WorkloadView {
  const ref: WorkloadRef = {
    kind: object.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace ?? "",
  };
  const pods = object.kind === "Pod" ? [object] : inventory.podsOf(ref);
  const live = pods.find((p) => asRecord(p.status)?.["phase"] === "Running") ?? pods[0];
  const source = live ? podSpecOf(live) : podSpecOf(object);
  const labels = (asRecord(source.metadata["labels"]) ?? {}) as Record<string, string>;
  const annotations = (asRecord(source.metadata["annotations"]) ?? {}) as Record<string, string>;
  const label = `${ref.namespace}/${ref.kind} ${ref.name}`;
  const endpoint: Endpoint =
    source.spec["hostNetwork"] === true
      ? {
          kind: "address",
          ...(str(asRecord(live?.status)?.["hostIP"]) ? { ip: str(asRecord(live?.status)?.["hostIP"]) } : {}),
        }
      : { kind: "pod", namespace: ref.namespace, labels, ports: containerPorts(source.spec) };
  return {
    ref,
    object,
    pods,
    labels,
    annotations,
    spec: source.spec,
    end: { endpoint, label, workload: ref },
  };
}

/** Every top-level workload of the cluster, as flow ends. */
export function allWorkloads(inventory: Inventory): WorkloadView[] {
  const namespaces = [
    ...new Set(inventory.objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n)),
  ];
  return namespaces.flatMap((ns) => inventory.workloads(ns).map((w) => workloadView(inventory, w)));
}

const matchLabels = (selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Workloads whose pods a Service selects. */
function serviceBackends(service: KubeObject, workloads: readonly WorkloadView[]): WorkloadView[] {
  const selector = (asRecord(asRecord(service.spec)?.["selector"]) ?? {}) as Record<string, string>;
  if (Object.keys(selector).length === 0) return [];
  return workloads.filter(
    (w) =>
      w.ref.namespace === service.metadata.namespace &&
      matchLabels(selector, w.labels) &&
      w.end.endpoint.kind === "pod",
  );
}

/** The target container port of a Service port on one backend (a named targetPort resolves per pod). */
function targetPort(
  servicePort: Json,
  backend: WorkloadView,
): { port: number; protocol: Protocol } | undefined {
  const protocol = (str(servicePort["protocol"]) as Protocol | undefined) ?? "TCP";
  const target = servicePort["targetPort"] ?? servicePort["port"];
  if (typeof target === "number") return { port: target, protocol };
  if (typeof target === "string" && /^\d+$/.test(target)) return { port: Number(target), protocol };
  const ports = backend.end.endpoint.kind === "pod" ? backend.end.endpoint.ports : [];
  const named = ports.find((p) => p.name === target && p.protocol === protocol);
  return named ? { port: named.containerPort, protocol } : undefined;
}

/** Known ingress controllers, by the labels their charts put on the controller pods. */
const INGRESS_CONTROLLER_LABELS: ReadonlyArray<Record<string, string>> = [
  { "app.kubernetes.io/name": "ingress-nginx" },
  { "app.kubernetes.io/name": "nginx-ingress" },
  { "app.kubernetes.io/name": "traefik" },
  { "app.kubernetes.io/name": "haproxy-ingress" },
  { "app.kubernetes.io/name": "contour" },
  { "app.kubernetes.io/name": "kong" },
  { app: "istio-ingressgateway" },
  { "app.kubernetes.io/name": "aws-load-balancer-controller" },
];
const PROMETHEUS_LABELS: ReadonlyArray<Record<string, string>> = [
  { "app.kubernetes.io/name": "prometheus" },
  { app: "prometheus" },
];

const isOneOf = (
  labels: Readonly<Record<string, string>>,
  candidates: ReadonlyArray<Record<string, string>>,
) => candidates.some((c) => matchLabels(c, labels));

/** Strings a pod carries that may name its peers: env values, command and args. */
function podStrings(spec: Json): { text: string; env?: string }[] {
  const out: { text: string; env?: string }[] = [];
  for (const c of containersOfSpec(spec)) {
    for (const e of asArray(c["env"])) {
      const env = asRecord(e);
      const value = str(env?.["value"]);
      if (value) out.push({ text: value, env: str(env?.["name"]) });
    }
    for (const part of [...asArray(c["command"]), ...asArray(c["args"])]) {
      const text = str(part);
      if (text) out.push({ text });
    }
  }
  return out;
}

const SCHEME_PORTS: Readonly<Record<string, number>> = {
  http: 80,
  https: 443,
  postgres: 5432,
  postgresql: 5432,
  mysql: 3306,
  redis: 6379,
  rediss: 6379,
  amqp: 5672,
  amqps: 5671,
  mongodb: 27017,
  sftp: 22,
  ssh: 22,
  ldap: 389,
  ldaps: 636,
  nats: 4222,
};

interface Reference {
  readonly host: string;
  readonly port?: number;
  readonly evidence: string;
}

/** Hosts (with ports) named in a pod's env, command and args: URLs, `host:port`, `X_HOST` + `X_PORT`. */
export function referencedHosts(spec: Json): Reference[] {
  const strings = podStrings(spec);
  const refs: Reference[] = [];
  const envValues = new Map(strings.filter((s) => s.env).map((s) => [s.env as string, s.text]));
  for (const { text, env } of strings) {
    const where = env ? `env ${env}` : `argument "${text.length > 60 ? `${text.slice(0, 57)}...` : text}"`;
    for (const m of text.matchAll(/([a-z][a-z0-9+.-]*):\/\/(?:[^@/\s]+@)?([A-Za-z0-9.-]+)(?::(\d+))?/g)) {
      const port = m[3] ? Number(m[3]) : SCHEME_PORTS[m[1].toLowerCase()];
      refs.push({ host: m[2], ...(port ? { port } : {}), evidence: where });
    }
    if (/:\/\//.test(text)) continue;
    for (const m of text.matchAll(/(?:^|[\s,=;])([A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z0-9-]+):(\d{1,5})\b/g)) {
      refs.push({ host: m[1], port: Number(m[2]), evidence: where });
    }
    if (env && /_(HOST|ADDR|ADDRESS|SERVER)$/.test(env) && /^[A-Za-z0-9.-]+$/.test(text)) {
      const portText = envValues.get(env.replace(/_(HOST|ADDR|ADDRESS|SERVER)$/, "_PORT"));
      const port = portText && /^\d+$/.test(portText) ? Number(portText) : undefined;
      if (port) refs.push({ host: text, port, evidence: where });
    }
  }
  return refs;
}

export interface FlowContext {
  readonly inventory: Inventory;
  /** The tenant namespaces whose boundary the flows must cross (network stage other than off). */
  readonly tenants: ReadonlySet<string>;
  /** Pods the stack will run (from the plan): the follower, the stack's Prometheus. */
  readonly plannedWorkloads: readonly WorkloadView[];
  /** Tenant applications onboarded to Conjur: namespace -> their ServiceAccounts. */
  readonly conjurApplications: ReadonlyMap<string, ReadonlySet<string>>;
  /** Where onboarded applications reach Conjur (the follower, or the hub), if anywhere. */
  readonly conjurTarget?: { readonly end: FlowEnd; readonly port: number };
}

/**
 * Where a spoke's onboarded applications reach Conjur, per edition: the appliance follower's pods
 * (planned), the Kubernetes Follower's pods (the operator makes them: the whole conjur-system
 * namespace on their port), or the hub's primary outside the cluster (oss).
 */
export function conjurFlowTarget(
  spec: StackSpec,
  plannedWorkloads: readonly WorkloadView[],
): { end: FlowEnd; port: number } {
  const conjur = spec.conjur;
  if (conjur.edition === "oss") {
    const cidr = spec.hub.primaryCidrs[0];
    const ip = cidr?.endsWith("/32") ? cidr.slice(0, -3) : undefined;
    return {
      end: {
        endpoint: { kind: "address", ...(ip ? { ip } : {}) },
        label: `the hub's Conjur ${spec.hub.advertisedHostname}${ip ? ` (${ip})` : " (addresses unknown)"}`,
      },
      port: 443,
    };
  }
  const port = FOLLOWER_POD_HTTPS_PORT[conjur.follower.kind];
  const planned = plannedWorkloads.find(
    (w) => w.ref.namespace === CONJUR_NAMESPACE && w.labels["app.kubernetes.io/name"] === FOLLOWER_DEPLOYMENT,
  );
  if (planned) return { end: planned.end, port };
  const workload = { kind: "ConjurFollower", name: FOLLOWER_DEPLOYMENT, namespace: CONJUR_NAMESPACE };
  return {
    end: {
      endpoint: {
        kind: "pod",
        namespace: CONJUR_NAMESPACE,
        labels: {},
        ports: [{ name: "https", containerPort: port, protocol: "TCP" }],
      },
      label: `${CONJUR_NAMESPACE}/ConjurFollower ${FOLLOWER_DEPLOYMENT} (added by the stack, pods made by the operator)`,
      workload,
    },
    port,
  };
}

const touchesTenant = (flow: Flow, tenants: ReadonlySet<string>) =>
  [flow.from.workload?.namespace, flow.to.workload?.namespace].some(
    (ns) => ns !== undefined && tenants.has(ns),
  );

/** Every candidate flow that crosses a tenant boundary, deduplicated. */
export function candidateFlows(context: FlowContext): Flow[] {
  const { inventory } = context;
  const workloads = allWorkloads(inventory);
  const flows: Flow[] = [];
  const add = (flow: Flow) => {
    if (flow.from.workload?.namespace === flow.to.workload?.namespace && flow.from.workload) return;
    if (touchesTenant(flow, context.tenants)) flows.push(flow);
  };
  const tenantWorkloads = workloads.filter((w) => context.tenants.has(w.ref.namespace));
  const services = inventory.ofKind("Service");

  // ingress: controller pods -> backends of every Ingress
  const controllers = workloads.filter((w) => isOneOf(w.labels, INGRESS_CONTROLLER_LABELS));
  for (const ingress of inventory.ofKind("Ingress")) {
    const ns = ingress.metadata.namespace ?? "";
    const spec = asRecord(ingress.spec) ?? {};
    const backends = [
      asRecord(spec["defaultBackend"]),
      ...asArray(spec["rules"]).flatMap((r) =>
        asArray(asRecord(asRecord(r)?.["http"])?.["paths"]).map((p) => asRecord(asRecord(p)?.["backend"])),
      ),
    ];
    for (const backend of backends) {
      const svc = asRecord(backend?.["service"]);
      const svcName = str(svc?.["name"]);
      if (!svcName) continue;
      const service = inventory.get("Service", ns, svcName);
      if (!service) continue;
      const wanted = asRecord(svc?.["port"]) ?? {};
      const servicePorts = asArray(asRecord(service.spec)?.["ports"])
        .map(asRecord)
        .filter((p): p is Json => !!p && (p["port"] === wanted["number"] || p["name"] === wanted["name"]));
      for (const target of serviceBackends(service, workloads)) {
        for (const sp of servicePorts) {
          const tp = targetPort(sp, target);
          if (!tp) continue;
          for (const controller of controllers) {
            add({
              from: controller.end,
              to: target.end,
              ...tp,
              source: "ingress",
              evidence: `Ingress ${ns}/${ingress.metadata.name} -> Service ${svcName}:${String(sp["port"])}`,
            });
          }
        }
      }
    }
  }

  // scrape: the cluster's Prometheus and the stack's -> annotated pods and metrics ports
  const scrapers = [
    ...workloads.filter((w) => isOneOf(w.labels, PROMETHEUS_LABELS) && w.end.endpoint.kind === "pod"),
    ...context.plannedWorkloads.filter((w) => isOneOf(w.labels, PROMETHEUS_LABELS)),
  ];
  for (const target of tenantWorkloads) {
    if (target.end.endpoint.kind !== "pod") continue;
    const ports: { port: number; why: string }[] = [];
    if (target.annotations["prometheus.io/scrape"] === "true") {
      const annotated = Number(target.annotations["prometheus.io/port"]);
      if (annotated) ports.push({ port: annotated, why: "prometheus.io/port annotation" });
    }
    for (const p of target.end.endpoint.ports) {
      if (p.name && (/metrics/.test(p.name) || p.name === "http-envoy-prom"))
        ports.push({ port: p.containerPort, why: `container port ${p.name}` });
    }
    for (const scraper of scrapers) {
      const planned = context.plannedWorkloads.includes(scraper);
      for (const { port, why } of ports) {
        add({
          from: scraper.end,
          to: target.end,
          port,
          protocol: "TCP",
          source: "scrape",
          evidence: why,
          ...(planned ? { added: true } : {}),
        });
      }
    }
  }

  // caller: pods naming <service>.<namespace> (either end in a tenant)
  const callerStrings = new Map(workloads.map((w) => [w, podStrings(w.spec).map((s) => s.text)]));
  for (const service of services) {
    const ns = service.metadata.namespace ?? "";
    const pattern = new RegExp(
      `(?:^|[^A-Za-z0-9-])${service.metadata.name}\\.${ns}(?:\\.svc(?:\\.cluster\\.local)?)?(?::(\\d+))?(?![A-Za-z0-9-])`,
    );
    for (const caller of workloads) {
      if (ns === caller.ref.namespace) continue;
      if (!context.tenants.has(ns) && !context.tenants.has(caller.ref.namespace)) continue;
      const strings = callerStrings.get(caller) ?? [];
      const match = strings.map((s) => pattern.exec(s)).find((m) => m !== null);
      if (!match) continue;
      const servicePorts = asArray(asRecord(service.spec)?.["ports"])
        .map(asRecord)
        .filter((p): p is Json => !!p && (match[1] === undefined || p["port"] === Number(match[1])));
      for (const target of serviceBackends(service, workloads)) {
        for (const sp of servicePorts) {
          const tp = targetPort(sp, target);
          if (tp) {
            add({
              from: caller.end,
              to: target.end,
              ...tp,
              source: "caller",
              evidence: `names ${service.metadata.name}.${ns}`,
            });
          }
        }
      }
    }
  }

  // declared: existing ingress rules of tenant namespaces that name other namespaces
  for (const policy of inventory.ofKind("NetworkPolicy")) {
    const ns = policy.metadata.namespace ?? "";
    if (!context.tenants.has(ns)) continue;
    const spec = asRecord(policy.spec) ?? {};
    const protectedPods = tenantWorkloads.filter(
      (w) => w.ref.namespace === ns && selectorMatchesLabels(spec["podSelector"], w.labels),
    );
    for (const rule of asArray(spec["ingress"]).map(asRecord)) {
      for (const peer of asArray(rule?.["from"]).map(asRecord)) {
        if (!peer?.["namespaceSelector"]) continue;
        const callers = workloads.filter(
          (w) =>
            w.ref.namespace !== ns &&
            w.end.endpoint.kind === "pod" &&
            selectorMatchesLabels(peer["namespaceSelector"], inventory.namespaceLabels(w.ref.namespace)) &&
            (peer["podSelector"] === undefined || selectorMatchesLabels(peer["podSelector"], w.labels)),
        );
        const rulePorts = asArray(rule?.["ports"]).map(asRecord);
        for (const target of protectedPods) {
          const targetPorts = target.end.endpoint.kind === "pod" ? target.end.endpoint.ports : [];
          const ports = rulePorts.length
            ? rulePorts.flatMap((p) => {
                const port = p?.["port"];
                if (typeof port === "number") return [port];
                const named = targetPorts.find((tp) => tp.name === port);
                return named ? [named.containerPort] : [];
              })
            : targetPorts.filter((p) => p.protocol === "TCP").map((p) => p.containerPort);
          for (const caller of callers) {
            for (const port of new Set(ports)) {
              add({
                from: caller.end,
                to: target.end,
                port,
                protocol: "TCP",
                source: "declared",
                evidence: `existing NetworkPolicy ${ns}/${policy.metadata.name} admits it`,
              });
            }
          }
        }
      }
    }
  }

  // dns: CoreDNS, and NodeLocal DNSCache when installed
  const coreDns = workloads.filter(
    (w) => w.ref.namespace === "kube-system" && w.labels["k8s-app"] === "kube-dns",
  );
  const nodeLocal = workloads.find(
    (w) =>
      w.ref.namespace === "kube-system" &&
      (w.labels["k8s-app"] === "node-local-dns" || w.ref.name === "node-local-dns"),
  );
  const nodeLocalIp = nodeLocal ? nodeLocalAddress(nodeLocal.spec) : undefined;
  for (const w of tenantWorkloads) {
    if (w.spec["dnsPolicy"] === "None" || w.spec["hostNetwork"] === true) continue;
    for (const dns of coreDns) {
      add({
        from: w.end,
        to: dns.end,
        port: 53,
        protocol: "UDP",
        source: "dns",
        evidence: "cluster DNS (dnsPolicy ClusterFirst)",
      });
    }
    if (nodeLocalIp) {
      add({
        from: w.end,
        to: { endpoint: { kind: "address", ip: nodeLocalIp }, label: `NodeLocal DNSCache ${nodeLocalIp}` },
        port: 53,
        protocol: "UDP",
        source: "dns",
        evidence: "kube-system/node-local-dns DaemonSet (host network, link-local address)",
      });
    }
  }

  // kube-api: pods whose ServiceAccount is bound to a role, or that say they call the API
  const apiServer = apiServerEnd(inventory);
  const boundAccounts = new Set(
    inventory.ofKind("RoleBinding").flatMap((rb) =>
      asArray((rb as unknown as Json)["subjects"])
        .map(asRecord)
        .filter((s) => s?.["kind"] === "ServiceAccount")
        .map((s) => `${str(s?.["namespace"]) ?? rb.metadata.namespace}/${str(s?.["name"])}`),
    ),
  );
  for (const w of tenantWorkloads) {
    const account = str(w.spec["serviceAccountName"]) ?? "default";
    const automount = w.spec["automountServiceAccountToken"] !== false;
    const declared = w.annotations["hubspoke.io/calls-kube-api"] === "true";
    if ((automount && boundAccounts.has(`${w.ref.namespace}/${account}`)) || declared) {
      add({
        from: w.end,
        to: apiServer,
        port: 443,
        protocol: "TCP",
        source: "kube-api",
        evidence: declared
          ? "annotated hubspoke.io/calls-kube-api"
          : `ServiceAccount ${account} is bound by a RoleBinding`,
      });
    }
  }

  // mesh: sidecars -> istiod
  const istiod = workloads.filter((w) => w.labels["app"] === "istiod");
  for (const w of tenantWorkloads) {
    const sidecar = containersOfSpec(w.spec).some((c) => c["name"] === "istio-proxy");
    if (!sidecar) continue;
    for (const d of istiod) {
      add({
        from: w.end,
        to: d.end,
        port: 15012,
        protocol: "TCP",
        source: "mesh",
        evidence: "istio-proxy sidecar (xDS and certificates)",
      });
    }
  }

  // aws and external: addresses and URLs the pod names
  for (const w of tenantWorkloads) {
    for (const c of containersOfSpec(w.spec)) {
      for (const e of asArray(c["env"]).map(asRecord)) {
        if (str(e?.["name"]) !== "AWS_CONTAINER_CREDENTIALS_FULL_URI") continue;
        const m = /:\/\/([\d.]+)(?::(\d+))?/.exec(str(e?.["value"]) ?? "");
        if (m) {
          add({
            from: w.end,
            to: { endpoint: { kind: "address", ip: m[1] }, label: `EKS Pod Identity agent ${m[1]}` },
            port: m[2] ? Number(m[2]) : 80,
            protocol: "TCP",
            source: "aws",
            evidence: "env AWS_CONTAINER_CREDENTIALS_FULL_URI",
          });
        }
      }
    }
    for (const ref of referencedHosts(w.spec)) {
      if (ref.port === undefined) continue;
      if (/\.(svc|cluster\.local)$/.test(ref.host) || isServiceReference(ref.host, services)) continue;
      if (/^169\.254\.170\.23$/.test(ref.host)) continue;
      const ip = IPV4_ADDRESS.test(ref.host) && /^[\d.]+$/.test(ref.host) ? ref.host : undefined;
      add({
        from: w.end,
        to: {
          endpoint: { kind: "address", ...(ip ? { ip } : {}) },
          label: ip ?? `${ref.host} (DNS name, addresses unknown)`,
        },
        port: ref.port,
        protocol: "TCP",
        source: "external",
        evidence: ref.evidence,
      });
    }
  }

  // conjur: onboarded applications -> the follower, or the hub (added by the conversion)
  const target = context.conjurTarget;
  for (const w of target ? tenantWorkloads : []) {
    const accounts = context.conjurApplications.get(w.ref.namespace);
    const account = str(w.spec["serviceAccountName"]) ?? "default";
    if (!accounts?.has(account) || !target) continue;
    add({
      from: w.end,
      to: target.end,
      port: target.port,
      protocol: "TCP",
      source: "conjur",
      evidence: `application with ServiceAccount ${account}`,
      added: true,
    });
  }
  return dedupe(flows);
}

/** The exact selector semantics of the policy evaluator. */
const selectorMatchesLabels = selectorMatches;

function isServiceReference(host: string, services: readonly KubeObject[]): boolean {
  const [name, ns] = host.split(".");
  return services.some((s) => s.metadata.name === name && s.metadata.namespace === ns);
}

/** node-local-dns binds the address given with `-localip` (first of a comma list); 169.254.20.10 by default. */
function nodeLocalAddress(spec: Json): string {
  for (const c of containersOfSpec(spec)) {
    const args = [...asArray(c["args"]), ...asArray(c["command"])].map(String);
    const index = args.findIndex((a) => a === "-localip" || a.startsWith("-localip="));
    if (index < 0) continue;
    const value = args[index].includes("=") ? args[index].split("=")[1] : args[index + 1];
    const first = value?.split(",")[0];
    if (first) return first;
  }
  return "169.254.20.10";
}

/** The API server as a flow end: its address from the `kubernetes` Endpoints when the inventory has them. */
function apiServerEnd(inventory: Inventory): FlowEnd {
  const endpoints = inventory.get("Endpoints", "default", "kubernetes");
  const subset = asRecord(asArray((endpoints as unknown as Json | undefined)?.["subsets"])[0]);
  const ip = str(asRecord(asArray(subset?.["addresses"])[0])?.["ip"]);
  return {
    endpoint: { kind: "address", ...(ip ? { ip } : {}) },
    label: ip ? `Kubernetes API server ${ip}` : "Kubernetes API server (address not in the inventory)",
  };
}

function dedupe(flows: Flow[]): Flow[] {
  const seen = new Set<string>();
  return flows.filter((f) => {
    const key = `${f.from.label}|${f.to.label}|${f.port}|${f.protocol}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Virtual workloads for the pods the plan will run (the follower, the stack's Prometheus). */
export function plannedWorkloadViews(
  objects: readonly { kind: string; namespace?: string; name: string; props: Json }[],
): WorkloadView[] {
  return objects
    .filter((o) => ["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind) && o.namespace)
    .map((o) => {
      const object = { ...o.props, kind: o.kind, apiVersion: "apps/v1" } as unknown as KubeObject;
      const { spec, metadata } = podSpecOf(object);
      const labels = (asRecord(metadata["labels"]) ?? {}) as Record<string, string>;
      const ref = { kind: o.kind, name: o.name, namespace: o.namespace as string };
      const endpoint: PodEndpoint = {
        kind: "pod",
        namespace: ref.namespace,
        labels,
        ports: containerPorts(spec),
      };
      return {
        ref,
        object,
        pods: [],
        labels,
        annotations: (asRecord(metadata["annotations"]) ?? {}) as Record<string, string>,
        spec,
        end: {
          endpoint,
          label: `${ref.namespace}/${ref.kind} ${ref.name} (added by the stack)`,
          workload: ref,
        },
      };
    });
}

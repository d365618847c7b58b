// Pure parts of a Conjur Enterprise Leader in the hub cluster (conjur.leader.placement: hub): names,
// the names its certificates carry, the appliance pod and the script of the configuration Job. They
// follow CyberArk's own deployments point by point (docs/architecture.md, "A Leader in the hub
// cluster", lists the sources and what could not be confirmed):
// - cyberark/kubernetes-conjur-deploy: `kubernetes/conjur-cluster.yaml` (the appliance container,
//   ports 443/636/5432/5433/1999, readiness `GET /health` over HTTPS, `AUDIT_WRITE`,
//   `allowPrivilegeEscalation: false`), `conjur-cluster-service.yaml` (443, 5432, 1999),
//   `6_configure_master.sh` (`kubectl exec <leader> -- evoke configure leader --accept-eula -h <name>
//   --master-altnames <names> -p <password> <account>`), `7_configure_standbys.sh` (`evoke seed
//   standby` on the Leader, `evoke unpack seed` and `evoke configure standby` on each Standby);
// - CyberArk's container installation as field guides run it (joetanx/conjur-cluster and others): the
//   persistent volumes /etc/conjur/config, /opt/cyberark/dap/security, /opt/conjur/backup,
//   /opt/cyberark/dap/seeds and /var/log/conjur; `evoke ca import --force --root <ca>`,
//   `evoke ca import --key <key> --set <leader cert>`, `evoke ca import --key <key> <follower cert>`.
import { CLUSTER_DOMAIN, CONJUR_NAMESPACE, FOLLOWER_SERVICE, serviceDnsNames } from "../naming";
import { LEADER_PORTS } from "../spoke/followers";
import { emptyDirVolume, resourceRequirements } from "../kube";
import type { HubLeaderSpec, SpokeSpec } from "../../stacks/spec";
import { shellQuote } from "./documents";

/** The StatefulSet: pod 0 is configured as the Leader, pods 1..n as Standbys. */
export const LEADER_STATEFULSET = "conjur-leader";
/** ClusterIP Service in front of the Leader pod only (the policy load, in-cluster clients). */
export const LEADER_SERVICE = "conjur-leader";
/** Headless Service that gives every appliance pod a stable DNS name (Standbys reach the Leader by it). */
export const LEADER_NODES_SERVICE = "conjur-leader-nodes";
/** LoadBalancer Service the spokes' followers reach (443, 5432, 1999), open to their addresses only. */
export const LEADER_EXTERNAL_SERVICE = "conjur-leader-external";
export const LEADER_CONTAINER = "conjur-appliance";
export const LEADER_CONFIGURE = "conjur-leader-configure";

/** What followers (and Standbys) reach on the Leader: API and seeds, replication, audit forwarding. */
export const LEADER_SERVED_PORTS = [LEADER_PORTS.https, LEADER_PORTS.postgres, LEADER_PORTS.audit] as const;

/**
 * The appliance's persistent paths, as CyberArk's container installation mounts them, each a
 * sub-directory of the pod's one volume; `hubspoke` holds the configuration Job's own record of
 * what it did (the role it gave the pod, the PKI it imported).
 */
export const LEADER_STATE_PATHS = {
  config: "/etc/conjur/config",
  security: "/opt/cyberark/dap/security",
  backup: "/opt/conjur/backup",
  seeds: "/opt/cyberark/dap/seeds",
  logs: "/var/log/conjur",
  hubspoke: "/var/lib/hubspoke",
} as const;
/** Where the Job puts the PKI files inside the Leader's container while importing them (removed after). */
export const LEADER_PKI_IMPORT_DIR = "/tmp/hubspoke-pki";

/** Files of the PKI Secret the Job mounts: the estate CA, the Leader's and the followers' certificates. */
export const LEADER_PKI_FILES = {
  ca: "ca.crt",
  leaderCert: "leader.crt",
  leaderKey: "leader.key",
  followerCert: "follower.crt",
  followerKey: "follower.key",
} as const;

/** Pod names in ordinal order: the Leader is pod 0 until a Standby is promoted (`activeNode`). */
export function leaderPodNames(leader: Pick<HubLeaderSpec, "standbys">): string[] {
  return Array.from({ length: 1 + leader.standbys }, (_, i) => `${LEADER_STATEFULSET}-${i}`);
}

/** The pods as the configuration Job takes them: the active Leader first, then the Standbys. */
export function leaderPodsLeaderFirst(leader: Pick<HubLeaderSpec, "standbys" | "activeNode">): string[] {
  const pods = leaderPodNames(leader);
  const active = pods[leader.activeNode] ?? pods[0];
  return [...pods.filter((p) => p === active), ...pods.filter((p) => p !== active)];
}

/** A pod's stable DNS name under the headless Service. */
export function leaderPodDnsName(pod: string): string {
  return `${pod}.${LEADER_NODES_SERVICE}.${CONJUR_NAMESPACE}.svc.${CLUSTER_DOMAIN}`;
}

/**
 * The names the Leader's certificate carries: the external host followers use first (its common
 * name, `evoke configure leader -h`), the configured extra names, the in-cluster Service names, and
 * every appliance pod's own name (Standbys reach the Leader by it, and a promoted Standby serves it).
 */
export function leaderDnsNames(leader: HubLeaderSpec): string[] {
  const names = [
    leader.hostname.replace(/:\d+$/, ""),
    ...leader.altNames,
    ...serviceDnsNames(LEADER_SERVICE, CONJUR_NAMESPACE),
    ...serviceDnsNames(LEADER_EXTERNAL_SERVICE, CONJUR_NAMESPACE),
    ...leaderPodNames(leader).map(leaderPodDnsName),
  ];
  return [...new Set(names)];
}

/**
 * The followers' certificate: one for every spoke, because every follower has the same in-cluster
 * name (the seed fetcher asks for `conjur-follower.conjur-system.svc.cluster.local`), covering each
 * converted spoke's external names too. The Leader hands it out in the followers' seeds.
 */
export function followerCertificateNames(spokes: readonly Pick<SpokeSpec, "follower">[]): string[] {
  const inCluster = serviceDnsNames(FOLLOWER_SERVICE, CONJUR_NAMESPACE).reverse();
  return [...new Set([...inCluster, ...spokes.flatMap((s) => s.follower.externalHostnames)])];
}

/**
 * The appliance pod template's spec (labels, ServiceAccount and the volume claim are set by the
 * component). Root with AUDIT_WRITE and no seccomp profile, as kubernetes-conjur-deploy runs it: the
 * appliance's init system and `evoke` run as root, and runtime-default seccomp profiles block the
 * keyctl calls its start-up makes (policy/exemptions.ts).
 */
export function leaderPodSpec(leader: HubLeaderSpec, image: string, serviceAccount: string) {
  const healthProbe = { httpGet: { path: "/health", port: "https", scheme: "HTTPS" } };
  return {
    serviceAccountName: serviceAccount,
    // The Leader does not call the hub's API (its authenticators are authn-jwt, per spoke).
    automountServiceAccountToken: false,
    // A configured Leader is stopped only by an operator: give its services time to stop cleanly.
    terminationGracePeriodSeconds: 120,
    containers: [
      {
        name: LEADER_CONTAINER,
        image,
        ports: [
          { name: "https", containerPort: LEADER_PORTS.https },
          { name: "pg-main", containerPort: LEADER_PORTS.postgres },
          { name: "syslog-audit", containerPort: LEADER_PORTS.audit },
        ],
        // Not ready until `evoke configure` has run: the Leader Service sends nothing to it before.
        readinessProbe: { ...healthProbe, periodSeconds: 10, timeoutSeconds: 5 },
        // No liveness probe: a restarted container comes back without its database (docs/operations.md).
        resources: resourceRequirements(leader.resources),
        securityContext: {
          runAsUser: 0,
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          capabilities: { add: ["AUDIT_WRITE"] },
        },
        volumeMounts: Object.entries(LEADER_STATE_PATHS).map(([subPath, mountPath]) => ({
          name: "state",
          mountPath,
          subPath,
        })),
      },
    ],
  };
}

export interface LeaderConfigureScriptInput {
  readonly account: string;
  /** The Leader's external host (`-h`) and the further names (`--master-altnames`). */
  readonly hostname: string;
  readonly altNames: readonly string[];
  /** Appliance pods, the Leader first. */
  readonly pods: readonly string[];
  /** Where the Job finds the admin password and the PKI files. */
  readonly passwordFile: string;
  readonly pkiDir: string;
  /** Memory-backed scratch directory for the Standby seed. */
  readonly scratchDir: string;
  /** Tries, 5 s apart, while waiting for a pod to run or a configured Leader to answer /health. */
  readonly waitAttempts?: number;
}

/**
 * The configuration Job's script: idempotent, it does only what the appliance says is not done yet.
 * Per pod it asks the appliance its role (`evoke role`: `blank` until configured, as CyberArk's own
 * demo scripts test it) and reads the role the Job recorded on the pod's volume
 * (`/var/lib/hubspoke/role`):
 * - the Leader (pod 0) blank and unrecorded: `evoke configure leader` (the admin password goes through
 *   stdin, never on a command line the API server records), then the record;
 * - blank but recorded: stop and say so, never configure again (a new container has lost the
 *   database; recovery is a Standby's promotion or `evoke restore`, docs/troubleshooting.md);
 * - already a Leader (or Standby): nothing to do (recorded if it was configured by hand);
 * - the estate PKI: `evoke ca import` of the root, the Leader's certificate (`--set`) and the
 *   followers', when the certificates differ from the ones recorded as imported;
 * - each blank Standby: a seed from the Leader (`evoke seed standby <standby> <leader>`) through the
 *   Job's memory scratch into `evoke unpack seed -` (stdin), then `evoke configure standby`.
 */
export function buildLeaderConfigureScript(input: LeaderConfigureScriptInput): string {
  const [leader, ...standbys] = input.pods;
  if (!leader) throw new Error("internal: a Leader needs at least one pod");
  const f = LEADER_PKI_FILES;
  const altNames = [...input.altNames].join(",");
  const lostDatabase =
    "its volume records that it was configured as $2, but the appliance is blank: its container " +
    "restarted without its database; not configuring it again " +
    "(docs/troubleshooting.md#leader-configured-before-but-blank-now)";
  return [
    "#!/bin/sh",
    "# Generated by hubspoke: configures the in-hub Conjur Enterprise Leader and its Standbys with evoke,",
    "# through kubectl exec, doing only what the appliances say is not done yet.",
    "set -eu",
    `NS=${shellQuote(CONJUR_NAMESPACE)}`,
    `LEADER=${shellQuote(leader)}`,
    `STATE=${shellQuote(LEADER_STATE_PATHS.hubspoke)}`,
    `IMPORT=${shellQuote(LEADER_PKI_IMPORT_DIR)}`,
    `PKI=${shellQuote(input.pkiDir)}`,
    `SCRATCH=${shellQuote(input.scratchDir)}`,
    `ATTEMPTS=${input.waitAttempts ?? 120}`,
    "",
    `in_pod() { pod=$1; shift; kubectl exec -n "$NS" "$pod" -c ${LEADER_CONTAINER} -- "$@"; }`,
    `in_pod_stdin() { pod=$1; shift; kubectl exec -i -n "$NS" "$pod" -c ${LEADER_CONTAINER} -- "$@"; }`,
    'recorded() { in_pod "$1" sh -c "cat $STATE/$2 2>/dev/null || true"; }',
    'record() { in_pod "$1" sh -c "mkdir -p $STATE && echo $3 > $STATE/$2"; }',
    'copy_in() { in_pod_stdin "$1" sh -c "umask 077 && mkdir -p $(dirname "$3") && cat > $3" < "$2"; }',
    "wait_for() {",
    "  what=$1; shift; n=0",
    '  until "$@"; do',
    '    n=$((n + 1)); [ "$n" -lt "$ATTEMPTS" ] || { echo "$what: not after $ATTEMPTS tries" >&2; exit 1; }',
    "    sleep 5",
    "  done",
    "}",
    'running() { [ "$(kubectl get pod -n "$NS" "$1" -o jsonpath=\'{.status.phase}\' 2>/dev/null)" = Running ]; }',
    "healthy() { in_pod \"$1\" sh -c 'curl -fsk -o /dev/null https://localhost/health' >/dev/null 2>&1; }",
    "# What the appliance says it is: blank (not configured), master or leader, standby.",
    'role_of() { wait_for "$1 running" running "$1"; in_pod "$1" evoke role | tr -d "[:space:]"; }',
    `lost() { echo "$1: ${lostDatabase}" >&2; exit 1; }`,
    "",
    'role=$(role_of "$LEADER")',
    'case "$role" in',
    "  blank)",
    '    [ -z "$(recorded "$LEADER" role)" ] || lost "$LEADER" leader',
    '    echo "$LEADER: evoke configure leader"',
    `    in_pod_stdin "$LEADER" sh -c 'read -r password && exec evoke configure leader --accept-eula -h ${shellQuote(input.hostname)} --master-altnames ${shellQuote(altNames)} -p "$password" ${shellQuote(input.account)}' < ${shellQuote(input.passwordFile)}`,
    '    record "$LEADER" role leader ;;',
    "  master | leader)",
    '    [ "$(recorded "$LEADER" role)" = leader ] || record "$LEADER" role leader',
    '    echo "$LEADER: Leader configured before; not configuring again" ;;',
    "  *) echo \"$LEADER: the appliance says it is '$role', not blank or the Leader: refusing to change it\" >&2; exit 1 ;;",
    "esac",
    'wait_for "$LEADER answering /health" healthy "$LEADER"',
    "",
    "# The estate PKI: imported again only when the certificates change (new spokes' names, renewals).",
    `sum=$(cat "$PKI/${f.ca}" "$PKI/${f.leaderCert}" "$PKI/${f.followerCert}" | sha256sum | cut -d' ' -f1)`,
    'if [ "$(recorded "$LEADER" pki.sha256)" = "$sum" ]; then',
    '  echo "$LEADER: estate PKI imported before"',
    "else",
    '  trap \'in_pod "$LEADER" rm -rf "$IMPORT" || true\' EXIT',
    `  for file in ${Object.values(f).join(" ")}; do copy_in "$LEADER" "$PKI/$file" "$IMPORT/$file"; done`,
    `  in_pod "$LEADER" evoke ca import --force --root "$IMPORT/${f.ca}"`,
    `  in_pod "$LEADER" evoke ca import --force --key "$IMPORT/${f.leaderKey}" --set "$IMPORT/${f.leaderCert}"`,
    `  in_pod "$LEADER" evoke ca import --force --key "$IMPORT/${f.followerKey}" "$IMPORT/${f.followerCert}"`,
    '  in_pod "$LEADER" rm -rf "$IMPORT"',
    "  trap - EXIT",
    '  record "$LEADER" pki.sha256 "$sum"',
    '  echo "$LEADER: estate PKI imported (root CA, Leader and follower certificates)"',
    "fi",
    "",
    ...standbys.flatMap((pod) => {
      const q = shellQuote(pod);
      return [
        `role=$(role_of ${q})`,
        'case "$role" in',
        "  blank)",
        `    [ -z "$(recorded ${q} role)" ] || lost ${q} standby`,
        `    echo ${shellQuote(`${pod}: evoke seed standby, unpack seed, configure standby`)}`,
        "    trap 'rm -f \"$SCRATCH/standby-seed.tar\"' EXIT",
        `    in_pod "$LEADER" evoke seed standby ${shellQuote(leaderPodDnsName(pod))} ${shellQuote(leaderPodDnsName(leader))} > "$SCRATCH/standby-seed.tar"`,
        `    in_pod_stdin ${q} evoke unpack seed - < "$SCRATCH/standby-seed.tar"`,
        '    rm -f "$SCRATCH/standby-seed.tar"',
        "    trap - EXIT",
        `    in_pod ${q} evoke configure standby`,
        `    record ${q} role standby ;;`,
        `  standby)`,
        `    [ "$(recorded ${q} role)" = standby ] || record ${q} role standby`,
        `    echo ${shellQuote(`${pod}: Standby configured before; not configuring again`)} ;;`,
        `  *) echo ${shellQuote(`${pod}: the appliance is neither blank nor a Standby:`)} "$role" >&2; exit 1 ;;`,
        "esac",
      ];
    }),
    'echo "Leader and Standbys configured"',
    "",
  ].join("\n");
}

/** Scratch volume of the configuration Job (the Standby seed passes through it; memory only). */
export const configureScratchVolume = () => emptyDirVolume("scratch", { memory: true, sizeLimit: "256Mi" });

// Per-environment defaults. A value set in the stack file always wins; these fill the gaps so a dev
// stack stays small and a prod stack starts protected and replicated.
import type { Environment, ImageKey } from "./schema";

export interface Resources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

/** Images with a public default; `appliance` has none (licensed, from CyberArk). */
export type PublicImageKey = Exclude<ImageKey, "appliance">;

/** Pinned defaults; every one can be overridden under `images`. */
export const DEFAULT_IMAGES: Readonly<Record<PublicImageKey, string>> = {
  // Conjur Open Source server (the hub's primary): `conjurctl server`.
  conjur: "cyberark/conjur:1.21.1",
  // Unprivileged nginx (listens on a high port, runs as uid 101) terminates TLS in front of Conjur.
  nginx: "nginxinc/nginx-unprivileged:1.27.4-alpine",
  postgres: "postgres:15.10",
  // Appliance followers only (conjur.follower.kind appliance). A tag seen in CyberArk's public material
  // (docs/architecture.md: which seed-fetcher releases take AUTHENTICATOR=authn-jwt was not verifiable).
  seedFetcher: "cyberark/dap-seedfetcher:0.3.0",
  // The policy-load Job speaks Conjur's REST API with curl (no CLI flag drift between versions).
  curl: "curlimages/curl:8.11.1",
  prometheus: "prom/prometheus:v2.53.3",
  // 5.x: the first line whose forward input can require client certificates (tls.verify_client_cert)
  // and whose shutdown with a shared key does not crash (docs/observability.md); 5.1.1 is the
  // release the tests run for real.
  fluentBit: "fluent/fluent-bit:5.1.1",
  // The backup's upload and the restore's download (container credentials for EKS Pod Identity and
  // `--checksum-algorithm` need a 2.15+ CLI).
  awsCli: "amazon/aws-cli:2.27.50",
  // Reports the backup CronJob's last successful run (kube_cronjob_status_last_successful_time).
  kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0",
  // The in-hub Leader's configuration Job: kubectl with a POSIX shell (registry.k8s.io/kubectl has no
  // shell to run the script in).
  kubectl: "alpine/k8s:1.33.4",
};

export interface EnvironmentDefaults {
  readonly hubReplicas: number;
  readonly followerReplicas: number;
  readonly postgresStorage: string;
  readonly caValidityHours: number;
  readonly validityHours: number;
  readonly earlyRenewalHours: number;
  readonly protectIrreplaceable: boolean;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly resources: {
    readonly conjur: Resources;
    readonly nginx: Resources;
    readonly postgres: Resources;
    readonly follower: Resources;
  };
}

const small = (cpu: string, mem: string, cpuLimit: string, memLimit: string): Resources => ({
  cpuRequest: cpu,
  memoryRequest: mem,
  cpuLimit,
  memoryLimit: memLimit,
});

const YEAR_HOURS = 8760;

export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, EnvironmentDefaults>> = {
  dev: {
    hubReplicas: 1,
    followerReplicas: 1,
    postgresStorage: "5Gi",
    caValidityHours: 5 * YEAR_HOURS,
    validityHours: 90 * 24,
    earlyRenewalHours: 30 * 24,
    protectIrreplaceable: false,
    logLevel: "debug",
    resources: {
      conjur: small("100m", "256Mi", "1", "1Gi"),
      nginx: small("25m", "32Mi", "250m", "128Mi"),
      postgres: small("100m", "256Mi", "1", "1Gi"),
      follower: small("250m", "1Gi", "1", "2Gi"),
    },
  },
  staging: {
    hubReplicas: 2,
    followerReplicas: 2,
    postgresStorage: "20Gi",
    caValidityHours: 10 * YEAR_HOURS,
    validityHours: 180 * 24,
    earlyRenewalHours: 30 * 24,
    protectIrreplaceable: false,
    logLevel: "info",
    resources: {
      conjur: small("250m", "512Mi", "2", "2Gi"),
      nginx: small("50m", "64Mi", "500m", "128Mi"),
      postgres: small("250m", "512Mi", "2", "2Gi"),
      follower: small("500m", "2Gi", "2", "4Gi"),
    },
  },
  prod: {
    hubReplicas: 2,
    followerReplicas: 2,
    postgresStorage: "50Gi",
    caValidityHours: 10 * YEAR_HOURS,
    validityHours: YEAR_HOURS,
    earlyRenewalHours: 60 * 24,
    protectIrreplaceable: true,
    logLevel: "info",
    resources: {
      conjur: small("500m", "1Gi", "2", "4Gi"),
      nginx: small("100m", "64Mi", "1", "256Mi"),
      postgres: small("500m", "1Gi", "4", "4Gi"),
      follower: small("1", "4Gi", "4", "8Gi"),
    },
  },
};

export const MONITORING_DEFAULTS = {
  scrapeInterval: "30s",
  federationInterval: "60s",
  federationTimeout: "30s",
  sampleLimit: 50000,
} as const;

/** Backups, per environment: how often, how long kept, whether locked and escrowed. */
export const BACKUP_DEFAULTS: Readonly<
  Record<
    Environment,
    {
      readonly schedule: string;
      readonly rpo: string;
      readonly retentionDays: number;
      readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly days: number };
      readonly escrow: boolean;
    }
  >
> = {
  dev: { schedule: "30 2 * * *", rpo: "26h", retentionDays: 7, escrow: false },
  staging: { schedule: "30 */6 * * *", rpo: "8h", retentionDays: 14, escrow: false },
  // The seed's "backup verified within the last 24 hours", with room for a failed run to be retried.
  prod: {
    schedule: "30 */4 * * *",
    rpo: "6h",
    retentionDays: 35,
    objectLock: { mode: "COMPLIANCE", days: 30 },
    escrow: true,
  },
};

/**
 * An in-hub Leader's appliance pods (conjur.leader.placement: hub): CyberArk's kubernetes-conjur-deploy
 * `conjur-cluster.yaml` requests 0.1 CPU / 0.5Gi and limits 2 CPU / 4Gi; the volume holds the
 * configuration, keys, backups (`evoke backup` archives), seeds and logs.
 */
export const HUB_LEADER_DEFAULTS = {
  resources: small("100m", "512Mi", "2", "4Gi"),
  storageSize: "20Gi",
} as const;

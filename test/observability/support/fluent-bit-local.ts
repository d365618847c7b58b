// Runs the stack's Fluent Bit configs on this machine. The containers' paths (hostPath log files,
// the node's buffer, the mounted config and TLS directories) do not exist here, so a config is
// transformed in those paths only, each mapped to a directory under a temporary root; ports and
// the forwarder's destination host are set for loopback by the callers that need it.
import * as fs from "node:fs";
import * as path from "node:path";
import { FLUENT_BIT_PATHS } from "../../../components/observability/workloads";
import { plannedStack, readManifests } from "../../support/plans";
import { createStackLikeCa, issueStackLikeCert, type CertFiles } from "./pki";

/** Container path prefix → directory under the local root. */
const LOCAL_DIRS: ReadonlyArray<readonly [string, string]> = [
  [`${FLUENT_BIT_PATHS.configDir}/`, "etc"],
  [`${FLUENT_BIT_PATHS.tlsDir}/`, "tls"],
  ["/var/fluent-bit/", "var-fluent-bit"],
  [`${FLUENT_BIT_PATHS.hostLogs}/`, "var-log"],
];

/** Creates the local directories of `root` (container logs under var-log/containers). */
export function prepareLocalRoot(root: string): void {
  for (const [, dir] of LOCAL_DIRS) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.mkdirSync(path.join(root, "var-log", "containers"), { recursive: true });
}

/** The config text with every container path moved under `root`; nothing else changes. */
export function localizePaths(text: string, root: string): string {
  return LOCAL_DIRS.reduce((t, [prefix, dir]) => t.replaceAll(prefix, `${path.join(root, dir)}/`), text);
}

/** Where a container path lands under `root`. */
export function localPath(containerPath: string, root: string): string {
  return localizePaths(containerPath, root);
}

/** The files the configs mount from their TLS Secret: tls.crt, tls.key, ca.crt (+ a search CA). */
export function writeTlsDir(root: string, ca: CertFiles, leaf: CertFiles): void {
  const dir = path.join(root, "tls");
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(ca.cert, path.join(dir, "ca.crt"));
  fs.copyFileSync(ca.cert, path.join(dir, "opensearch-ca.crt"));
  fs.copyFileSync(leaf.cert, path.join(dir, "tls.crt"));
  fs.copyFileSync(leaf.key, path.join(dir, "tls.key"));
}

/** An estate root CA with a log-sink server certificate and a forwarder client certificate. */
export interface LogPki {
  ca: CertFiles;
  sink: CertFiles;
  forwarder: CertFiles;
}

export function createLogPki(dir: string, sinkNames: readonly string[], spoke: string): LogPki {
  const ca = createStackLikeCa(dir, "root-ca", "hubspoke root CA");
  return {
    ca,
    sink: issueStackLikeCert(dir, ca, "log-sink", {
      commonName: sinkNames[0],
      use: "server",
      dnsNames: sinkNames,
    }),
    forwarder: issueStackLikeCert(dir, ca, "forwarder", { commonName: `fluent-bit-${spoke}`, use: "client" }),
  };
}

/** ConfigMaps that hold a Fluent Bit config: the spokes' forwarders and the hub's sink. */
export const FLUENT_BIT_CONFIG_MAPS = ["fluent-bit-config", "log-sink-config"] as const;

export interface PlannedFluentBitConfig {
  stack: string;
  cluster: string;
  configMap: string;
  /** The ConfigMap's data, file name → text. */
  data: Record<string, string>;
}

/** Every Fluent Bit config a stack's offline plan renders (from its manifests). */
export async function planFluentBitConfigs(stack: string): Promise<PlannedFluentBitConfig[]> {
  const plan = await plannedStack(stack);
  return readManifests(plan.outDir)
    .filter(
      (d) =>
        d.object.kind === "ConfigMap" &&
        (FLUENT_BIT_CONFIG_MAPS as readonly string[]).includes((d.object.metadata as { name: string }).name),
    )
    .map((d) => ({
      stack,
      cluster: d.cluster,
      configMap: (d.object.metadata as { name: string }).name,
      data: d.object.data as Record<string, string>,
    }));
}

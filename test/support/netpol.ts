// Judges rendered tenant policies with the preflight's exact NetworkPolicy evaluator.
import type { TenantNetworkPolicy } from "../../components/tenancy/isolation";
import { evaluateConnection, type Connection } from "../../tools/preflight/netpol";

/** Whether the connection passes these policies (all in `namespace`); namespaces carry only their name label. */
export function evalPolicy(
  policies: readonly TenantNetworkPolicy[],
  namespace: string,
  connection: Connection,
): boolean {
  const objects = policies.map((p) => ({
    namespace,
    name: p.name,
    spec: p.spec as unknown as Record<string, unknown>,
  }));
  return evaluateConnection(connection, objects, (ns) => ({ "kubernetes.io/metadata.name": ns })).allowed;
}

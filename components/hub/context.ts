// What every part of the hub is built with: the component's resource name prefix, the metadata and
// options of objects in conjur-system, and the options of cluster-scoped objects; and what the
// policy load needs from whichever Conjur server a topology has.
import type * as pulumi from "@pulumi/pulumi";
import type { ObjectMeta } from "../namespace";
import type { PolicyLoadArgs } from "./policy-load";

export interface HubContext {
  /** Prefix of every resource name (the component's name). */
  readonly name: string;
  /** Metadata of an object in conjur-system: its name and component label. */
  readonly meta: (objectName: string, component: string) => ObjectMeta;
  /** Options of objects in conjur-system (they wait for the namespace). */
  readonly nsOpts: pulumi.CustomResourceOptions;
  /** Options of cluster-scoped objects. */
  readonly clusterOpts: pulumi.CustomResourceOptions;
}

/** Where the policy-load Job finds the Conjur server, and what it waits for. */
export type ServerAccess = Pick<
  PolicyLoadArgs,
  | "serverUrl"
  | "serverCaVolume"
  | "adminSecretName"
  | "serverPeers"
  | "serverPort"
  | "dependsOn"
  | "extraScripts"
  | "enableThroughApi"
>;

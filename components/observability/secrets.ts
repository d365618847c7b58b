// The secret the log flow shares between clusters: the forward protocol's shared key, generated
// once and handed both to the hub's log sink and to every spoke's Fluent Bit.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface ObservabilitySecretsArgs {
  /** Length of the forward shared key (default 48). */
  readonly sharedKeyLength?: number;
}

export class ObservabilitySecrets extends pulumi.ComponentResource {
  /** The forward protocol's shared key (secret); the sink and every forwarder hold the same value. */
  public readonly forwardSharedKey: pulumi.Output<string>;

  constructor(name: string, args: ObservabilitySecretsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:observability:ObservabilitySecrets", name, {}, opts);
    // No keepers: the key changes only when this resource is replaced on purpose (see docs/operations.md).
    // Alphanumeric, since it travels through an env var into the ${VAR} of a Fluent Bit config.
    const sharedKey = new random.RandomPassword(
      `${name}-forward-shared-key`,
      { length: args.sharedKeyLength ?? 48, special: false },
      { parent: this },
    );
    this.forwardSharedKey = pulumi.secret(sharedKey.result);
    this.registerOutputs({});
  }
}

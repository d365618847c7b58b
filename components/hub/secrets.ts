// The estate's generated secrets: the Conjur data key (created once, never rotated by config) and
// the admin and Postgres passwords. They exist only as secret outputs and in Kubernetes Secrets.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

export interface ConjurSecretsArgs {
  /** Protect the data key: losing it makes every encrypted value in the database unreadable. */
  readonly protectDataKey: boolean;
}

export class ConjurSecrets extends pulumi.ComponentResource {
  /** 32 random bytes, base64: what `conjurctl data-key generate` prints (secret). */
  public readonly dataKey: pulumi.Output<string>;
  public readonly adminPassword: pulumi.Output<string>;
  public readonly postgresPassword: pulumi.Output<string>;

  constructor(name: string, args: ConjurSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hubspoke:hub:ConjurSecrets", name, {}, opts);
    // No keepers: nothing in the config can make Pulumi generate a new data key.
    const dataKey = new random.RandomBytes(
      `${name}-data-key`,
      { length: 32 },
      { parent: this, protect: args.protectDataKey },
    );
    // Conjur requires 12-128 characters with two upper, two lower, one digit and one special character.
    const admin = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 32, minUpper: 2, minLower: 2, minNumeric: 2, minSpecial: 2, overrideSpecial: "-_.~" },
      { parent: this },
    );
    // Postgres' password sits inside DATABASE_URL, so it keeps to URL-safe characters.
    const postgres = new random.RandomPassword(
      `${name}-postgres-password`,
      { length: 32, special: false },
      { parent: this },
    );
    this.dataKey = pulumi.secret(dataKey.base64);
    this.adminPassword = pulumi.secret(admin.result);
    this.postgresPassword = pulumi.secret(postgres.result);
    this.registerOutputs({});
  }
}

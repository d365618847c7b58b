// The typed statements a Conjur policy is built from, and the two helpers every builder uses. The
// builders (policy.ts, authn-jwt.ts) produce these; policy.ts serialises them with Conjur's YAML tags.

export type RecordKind = "policy" | "webservice" | "variable" | "group" | "host" | "layer" | "user";

/** A reference to a record (`!group consumers`); id "" means the enclosing policy's own resource. */
export interface Ref {
  readonly kind: RecordKind;
  readonly id: string;
}

export type Annotations = Readonly<Record<string, string>>;

export type Statement =
  | {
      readonly kind: "policy";
      readonly id: string;
      readonly annotations?: Annotations;
      readonly body: readonly Statement[];
    }
  | {
      readonly kind: "webservice" | "variable" | "group" | "host";
      readonly id: string;
      readonly annotations?: Annotations;
    }
  | { readonly kind: "grant"; readonly role: Ref; readonly member: Ref }
  | {
      readonly kind: "permit";
      readonly role: Ref;
      readonly privileges: readonly string[];
      readonly resource: Ref;
    };

export const ref = (kind: RecordKind, id: string): Ref => ({ kind, id });

export const record = (
  kind: "webservice" | "variable" | "group" | "host",
  id: string,
  annotations?: Annotations,
): Statement => (annotations ? { kind, id, annotations } : { kind, id });

/**
 * The groups and permits every authenticator branch has: `consumers` may authenticate with the
 * branch's webservice, `operators` may read its `status` webservice. `subject` and `statusSubject`
 * name the authenticator in the groups' descriptions.
 */
export function authenticatorAccess(subject: string, statusSubject: string): Statement[] {
  return [
    record("group", "consumers", { description: `identities allowed to authenticate with ${subject}` }),
    record("group", "operators", { description: `may read the status of ${statusSubject}` }),
    {
      kind: "permit",
      role: ref("group", "consumers"),
      privileges: ["read", "authenticate"],
      resource: ref("webservice", ""),
    },
    {
      kind: "permit",
      role: ref("group", "operators"),
      privileges: ["read"],
      resource: ref("webservice", "status"),
    },
  ];
}

// The spoke: its authn-jwt issuer, its tenants, and in enterprise a follower of the Leader.
export { ConjurSpoke, ConjurSpokeArgs, SpokeJwtAuthenticator } from "./spoke";
export { applianceFollowerPodSpec, conjurFollowerSpec, seedFetchEnv, SEEDFILE_DIR } from "./followers";

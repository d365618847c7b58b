// The spoke: a follower fed by seed fetch, with its tenants, on one workload cluster.
export {
  ConjurSpoke,
  ConjurSpokeArgs,
  seedFetchEnv,
  SEEDFILE_DIR,
  HUB_ACCESS_SERVICE_ACCOUNT,
} from "./spoke";

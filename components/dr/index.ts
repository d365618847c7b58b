// Disaster recovery for the hub: backups to S3 (and their restore), escrow, Route53 failover.
export { HubBackup, HubBackupArgs } from "./backup";
export { HubFailover, HubFailoverArgs } from "./failover";
export { BACKUP_STATE_METRICS } from "./workloads";
export { BACKUP_NAMES } from "./workloads";

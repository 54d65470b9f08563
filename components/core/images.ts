// Container images Keelson runs itself, pinned (never `latest`), in one place for review and upgrades.

/** etcdctl from the etcd image kubeadm 1.33 runs (the etcd backup CronJob). */
export const ETCD_IMAGE = "registry.k8s.io/etcd:3.5.21-0";
/** AWS CLI v2 (uploads of etcd and database backups). */
export const AWS_CLI_IMAGE = "amazon/aws-cli:2.27.50";
/** The image the wait-for initContainers run (busybox `nc -z`). */
export const WAIT_IMAGE = "busybox:1.37.0";

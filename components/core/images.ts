// Container images Keelson runs itself, pinned (never `latest`), in one place for review and upgrades.

/** etcdctl from the etcd image kubeadm 1.33 runs (the etcd backup CronJob). */
export const ETCD_IMAGE = "registry.k8s.io/etcd:3.5.21-0";
/**
 * AWS CLI v2 (uploads of etcd and database backups), pinned by digest: the tag is mutable, and the etcd
 * backup runs on the masters. The digest is the multi-arch index of 2.27.50 as public manifests pin it.
 */
export const AWS_CLI_IMAGE =
    "amazon/aws-cli:2.27.50@sha256:48c3d4212e2f5b0e24bdc6af7708f9412ce65425a79575e0f78b8f8c0dcd70ab";
/** The image the wait-for initContainers run (busybox `nc -z`). */
export const WAIT_IMAGE = "busybox:1.37.0";

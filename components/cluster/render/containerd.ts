// containerd's configuration on Kubernetes nodes, rendered whole instead of patching
// `containerd config default` with sed. Pure text.
//
// Debian 13 ships containerd 1.7.24, whose `config default` is a version 2 file whose CNI bin_dir
// is Debian's /usr/lib/cni; the kubernetes-cni package and every CNI add-on's installer put their
// plugins in /opt/cni/bin, so that default would leave pods without a network. Version 2 is what
// containerd 1.6 and 1.7 read, and containerd 2.x migrates a version 2 file when it loads it (its
// own default is version 3, with the CRI settings split into io.containerd.cri.v1.images and
// io.containerd.cri.v1.runtime), so the same file serves an upgrade to 2.x. Everything not set here
// keeps the installed containerd's own default.

/** Where cloud-init writes the configuration; the bootstrap installs it once the package is in. */
export const CONTAINERD_CONFIG_TEMPLATE_PATH = "/etc/keelson/containerd.toml";
/** containerd's configuration file. */
export const CONTAINERD_CONFIG_PATH = "/etc/containerd/config.toml";
/** The pause image kubeadm 1.33 expects as the pod sandbox (`kubeadm config images list`). */
export const SANDBOX_IMAGE = "registry.k8s.io/pause:3.10";
/** Where kubernetes-cni and the CNI add-ons install their plugins. */
export const CNI_BIN_DIR = "/opt/cni/bin";
/** Where the CNI add-ons write their network configuration. */
export const CNI_CONF_DIR = "/etc/cni/net.d";

const CRI = `plugins."io.containerd.grpc.v1.cri"`;

/**
 * The node's `/etc/containerd/config.toml` (containerd config version 2): the CRI plugin with the
 * pause image {@link SANDBOX_IMAGE}, CNI plugins from {@link CNI_BIN_DIR} and configuration from
 * {@link CNI_CONF_DIR}, and runc (io.containerd.runc.v2) as the default runtime with the systemd
 * cgroup driver, which the kubelet's `cgroupDriver: systemd` requires.
 */
export function renderContainerdConfig(): string {
    return `# Keelson: containerd for kubeadm nodes, rendered by components/cluster/render/containerd.ts.
version = 2

[${CRI}]
  sandbox_image = "${SANDBOX_IMAGE}"

  [${CRI}.cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${CNI_CONF_DIR}"

  [${CRI}.containerd]
    default_runtime_name = "runc"

    [${CRI}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${CRI}.containerd.runtimes.runc.options]
        SystemdCgroup = true
`;
}

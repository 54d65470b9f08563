// The default StorageClass Keelson writes itself: encrypted gp3 through the EBS CSI driver.
import { Manifest } from "../core/manifest";

/** Name of Keelson's default StorageClass. */
export const STORAGE_CLASS = "gp3-encrypted";

/**
 * Encrypted gp3 volumes, bound where the pod is scheduled (WaitForFirstConsumer keeps a volume in the
 * pod's availability zone), expandable, and the cluster default.
 */
export function renderStorageClass(): Manifest {
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
            name: STORAGE_CLASS,
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
        reclaimPolicy: "Delete",
    };
}

// A container securityContext that meets the Pod Security Standards restricted profile: the fixture the
// policy tests start from and weaken.
export const RESTRICTED_CONTAINER_SC = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

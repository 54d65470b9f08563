// The HTTP route the edge tests and the edge benchmark build their specs from.
import { HttpRoute } from "../../components/edge/types";

/** An HTTP route to `nodePort` on every node; by default host `a.example.com`, path `/`, health `/healthz`. */
export function httpRoute(
    name: string,
    nodePort: number,
    o: Partial<Pick<HttpRoute, "hosts" | "path" | "healthPath" | "websocket">> = {},
): HttpRoute {
    return {
        kind: "http",
        name,
        hosts: o.hosts ?? ["a.example.com"],
        path: o.path ?? "/",
        nodePort,
        healthPath: o.healthPath ?? "/healthz",
        ...(o.websocket ? { websocket: true } : {}),
    };
}

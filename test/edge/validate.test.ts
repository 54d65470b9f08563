// Pure tests of route and certificate validation: every problem with its exact message.
import * as assert from "node:assert/strict";
import fc from "fast-check";
import { EdgeRoute } from "../../components/edge/types";
import {
    certificateCovers,
    normalizePath,
    validateCertificates,
    validateRoutes,
} from "../../components/edge/validate";

const web: EdgeRoute = {
    kind: "http",
    name: "web",
    hosts: ["www.example.com"],
    path: "/",
    nodePort: 30080,
    healthPath: "/healthz",
};

describe("edge/validate", () => {
    it("accepts a usable set of routes", () => {
        const routes: EdgeRoute[] = [
            web,
            { ...web, name: "api", path: "/api", nodePort: 30081 },
            { ...web, name: "other", hosts: ["*.example.com"], path: "/api" },
            { kind: "tcp", name: "pg", listenPort: 5432, nodePort: 30432 },
            { kind: "udp", name: "dns", listenPort: 5432, nodePort: 30053 },
        ];
        assert.deepEqual(validateRoutes(routes, "nginx"), []);
    });

    it("names every problem with key, value and fix", () => {
        const routes = [
            web,
            { ...web, nodePort: 30081 },
            { ...web, name: "Bad_Name", path: "/api" },
            { ...web, name: "slash", path: "/" + "/", hosts: ["Upper.example.com"] },
            { ...web, name: "inject", path: "/a;b", healthPath: "healthz" },
            { ...web, name: "same", path: "/" + "/", hosts: [] },
            { ...web, name: "dup-path", hosts: ["www.example.com"], path: "/api/" },
            { kind: "tcp", name: "https", listenPort: 443, nodePort: 70000 },
            { kind: "tcp", name: "pg", listenPort: 5432, nodePort: 30432 },
            { kind: "tcp", name: "pg2", listenPort: 5432, nodePort: 30433 },
            { kind: "udp", name: "dns", listenPort: 0, nodePort: 30053 },
            { kind: "sctp", name: "x", listenPort: 9, nodePort: 30009 },
        ] as unknown as EdgeRoute[];
        assert.deepEqual(
            validateRoutes(routes, "haproxy").map((p) => p.message),
            [
                'routes.web.name: "web" is used by routes[0] too; give each route a unique name',
                'routes.web.path: www.example.com/ is already routed by "web"; use another path or host',
                `routes[2].name: "Bad_Name" is not DNS-safe; use lowercase letters, digits and '-' (max 63)`,
                `routes.slash.hosts: "Upper.example.com" is not a lowercase host name; use e.g. app.example.com or *.example.com`,
                `routes.slash.path: "//" is not a plain path; use '/' followed by letters, digits, '.', '_', '~', '-' and single '/' separators`,
                `routes.inject.path: "/a;b" is not a plain path; use '/' followed by letters, digits, '.', '_', '~', '-' and single '/' separators`,
                `routes.inject.healthPath: "healthz" is not a plain path; use '/' followed by letters, digits, '.', '_', '~', '-' and single '/' separators`,
                "routes.same.hosts: is empty; name at least one host",
                `routes.same.path: "//" is not a plain path; use '/' followed by letters, digits, '.', '_', '~', '-' and single '/' separators`,
                'routes.dup-path.path: www.example.com/api/ is already routed by "Bad_Name"; use another path or host',
                "routes.https.nodePort: 70000 is not a port; use an integer 1-65535 (NodePorts are 30000-32767 by default)",
                "routes.https.listenPort: 443 is reserved for HTTP(S); use another port or an http route",
                'routes.pg2.listenPort: tcp 5432 is already taken by "pg"; use another port',
                "routes.dns.listenPort: 0 is not a port; use an integer 1-65535",
                "routes.dns.kind: udp is not supported by haproxy 2.6; use edge.engine nginx or a tcp route",
                'routes.x.kind: "sctp" is not a route kind; use http, tcp or udp',
            ],
        );
        const first = validateRoutes(routes, "haproxy")[0];
        assert.deepEqual([first.key, first.value], ["routes.web.name", "web"]);
    });

    it("matches certificate hosts exactly or through one wildcard label", () => {
        assert.equal(certificateCovers("www.example.com", "www.example.com"), true);
        assert.equal(certificateCovers("*.example.com", "www.example.com"), true);
        assert.equal(certificateCovers("*.example.com", "a.b.example.com"), false);
        assert.equal(certificateCovers("*.example.com", "example.com"), false);
        assert.equal(certificateCovers("*.example.com", "*.example.com"), true);
        assert.equal(certificateCovers("www.example.com", "*.example.com"), false);
    });

    it("reports hosts without a certificate and bad certificate names", () => {
        const problems = validateCertificates(
            [web, { ...web, name: "api", hosts: ["api.example.org", "x.example.com"] }],
            [
                { name: "www", hosts: ["www.example.com"] },
                { name: "www", hosts: ["*.example.com"] },
                { name: "No", hosts: [] },
            ],
        );
        assert.deepEqual(
            problems.map((p) => p.message),
            [
                'certificates[1].name: "www" is used twice; give each certificate a unique name',
                `certificates[2].name: "No" is not DNS-safe; use lowercase letters, digits and '-'`,
                'routes.api.hosts: no certificate serves "api.example.org"; add it to the hosts of a certificate in edge.certificates',
            ],
        );
    });

    it("treats /p and /p/ as one path for any path (property)", () => {
        const segment = fc.stringMatching(/^[a-z0-9._~-]{1,8}$/);
        fc.assert(
            fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), (segments) => {
                const path = "/" + segments.join("/");
                const a = { ...web, name: "a", path };
                const b = { ...web, name: "b", path: path + "/" };
                assert.equal(normalizePath(path + "/"), path);
                assert.equal(validateRoutes([a, b]).length, 1);
                assert.deepEqual(validateRoutes([a]), []);
            }),
        );
    });
});

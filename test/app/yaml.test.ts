// The artifacts' YAML writer (components/core/yaml.ts): every manifest of the reference application and
// of a generated one parses back to exactly itself; plain documents are byte for byte `stringify`'s; the
// edge cases (strings that read as other types, indicators, multi-line text, tabs, trailing newlines).
import * as assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { toYaml } from "../../components/core/yaml";
import { planApplication } from "../../components/app/plan";
import { referenceServices } from "../../components/app/reference-app";
import { generatedServices } from "../../tools/bench/plan/programs";

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe("components/core/yaml", () => {
    const corpus = [
        ...planApplication({
            name: "shop",
            namespace: "app",
            services: referenceServices({ hostname: "a.example.com", webReplicas: 2 }),
            edgeSourceCidrs: ["10.0.96.0/20"],
        }).objects,
        ...planApplication({
            name: "gen",
            namespace: "gen",
            services: generatedServices(100),
            edgeSourceCidrs: ["10.0.192.0/22"],
        }).objects,
    ];

    it("writes every manifest of the reference and a generated application so that it parses back to itself", () => {
        assert.ok(corpus.length > 600);
        for (const o of corpus) assert.deepEqual(parse(toYaml(o.manifest)), plain(o.manifest), o.key);
    });

    it("writes Services, NetworkPolicies, PDBs, Secrets and claims byte for byte as stringify does", () => {
        const kinds = new Set([
            "Service",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Secret",
            "PersistentVolumeClaim",
        ]);
        const docs = corpus.filter((o) => kinds.has(o.manifest.kind as string));
        assert.ok(docs.length > 300);
        for (const o of docs) assert.equal(toYaml(o.manifest), stringify(o.manifest), o.key);
    });

    it("quotes what would read as another type, and keeps text exact", () => {
        const value = {
            n: ["1", "-1", "0.5", "1e3", "0x1f", ".inf", "true", "False", "null", "~", ""],
            indicators: ["[secret]", "@x", "*x", "&x", "!x", "%x", "{x}", "#x", "- x", "-", "a: b", "a #b"],
            plain: [
                "-c",
                "--appendonly",
                "a:b",
                "ghcr.io/x:1.2",
                "a=b",
                "$(REDIS_PASSWORD)",
                "x y z",
                "./x",
                "/x",
            ],
            text: [
                "a\nb",
                "a\nb\n",
                "a\nb\n\n",
                "\tindented\n\ttabs\n",
                " leading\nspace",
                "a\n  \nb",
                "x\r\ny",
                'q"uote\\',
                "é ü 日本",
            ],
            long: "word ".repeat(30).trim(),
            numbers: [0, -3, 2.5, 1e21, 4294967296],
            keys: { "app.kubernetes.io/name": 1, "a b": 2, "1": 3, true: 4, "": 5, "x: y": 6 },
            empty: { m: {}, s: [], nested: [[], {}, [["deep"]], [{ a: 1, b: [{ c: "d" }] }]] },
            bools: [true, false, null],
        };
        const text = toYaml(value);
        assert.deepEqual(parse(text), value);
        assert.match(text, /^ {2}- "1"$/m);
        assert.match(text, /^ {2}- "\[secret\]"$/m);
        assert.match(text, /^ {2}- -c$/m);
        assert.match(text, /^ {2}- \|-\n {4}a\n {4}b$/m);
        assert.match(text, /^ {2}- \|\+\n {4}a\n {4}b\n\n {2}- /m);
        assert.match(text, /^ {4}- - - deep$/m);
    });

    it("hands values that are not plain data to stringify", () => {
        for (const v of [{ a: undefined, b: 1 }, { d: new Date(0) }, { n: Number.NaN }, [1, 2], "text", {}])
            assert.equal(toYaml(v), stringify(v));
    });
});

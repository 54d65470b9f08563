// Keelson's component provider: serves the components to every Pulumi language (`pulumi package add`).
// The schema (types, inputs, outputs, docs) is inferred from the components' TypeScript args and properties.
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { PROVIDER_COMPONENTS } from "./components";

componentProviderHost({ name: "keelson", components: [...PROVIDER_COMPONENTS], dirname: __dirname }).catch(
    (err: unknown) => {
        console.error(err);
        process.exit(1);
    },
);

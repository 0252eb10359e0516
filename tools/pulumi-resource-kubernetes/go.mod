// Wrapper module for the Kubernetes provider plugin (pulumi-resource-kubernetes).
//
// Upstream's cmd/pulumi-resource-kubernetes embeds schema-embed.json and
// terraform-mapping-embed.json, which are generated at release time and are not
// in the module zip. The module does ship schema.json and terraform-mapping.json
// next to them, so scripts/engine/toolchain.sh copies those two into this
// module (stamping the plugin version into the schema, as upstream's
// generate.go does) and builds main.go here. Versions: scripts/engine/versions.env.
module platform.local/tools/pulumi-resource-kubernetes

go 1.24.7

require github.com/pulumi/pulumi-kubernetes/provider/v4 v4.0.0-20260115033456-f47bc2d6f199

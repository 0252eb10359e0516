// Wrapper module for the Kubernetes provider plugin. UNVERIFIED: the Go module
// proxy refuses github.com/pulumi/pulumi-kubernetes/provider/v4 (HTTP 403). When
// it is reachable, expect to also need a main.go here that embeds the provider
// schema (upstream's cmd/pulumi-resource-kubernetes embeds a generated
// schema-embed.json that is not part of the module zip); see docs/local-engine.md.
module platform.local/tools/pulumi-resource-kubernetes

go 1.24.0

require github.com/pulumi/pulumi-kubernetes/provider/v4 v4.34.2

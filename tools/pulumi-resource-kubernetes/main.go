// Command pulumi-resource-kubernetes serves the Kubernetes provider, exactly as
// upstream's main does, from the schema and Terraform mapping that the provider
// module ships. toolchain.sh writes the two *-embed.json files before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}

// Package pulumiresourcerandom is a wrapper module that builds the Pulumi
// "random" resource provider plugin without github.com/pulumi/pulumi-random
// (the Go module proxy refuses it) from three modules it does serve:
//
//   - github.com/terraform-providers/terraform-provider-random, the Terraform
//     provider itself (Plugin Framework), by commit pseudo-version;
//   - github.com/pulumi/pulumi-terraform-bridge/v3, whose pkg/pf bridges
//     Plugin Framework providers to Pulumi;
//   - the Pulumi SDK, through the bridge.
//
// Layout:
//
//   - shim/: a module of our own whose path lies under the provider's path, so
//     that it may import the provider's internal/provider package; go.mod wires
//     it in with a local replace.
//   - internal/randominfo: the mapping (tokens random:index/randomPassword:RandomPassword
//     and so on, as in @pulumi/random's __pulumiType values), shared by:
//   - cmd/gen: the bridge's tfgen, writing the real schema.json and
//     bridge-metadata.json;
//   - cmd/pulumi-resource-random: the plugin, embedding those two files.
//
// build.sh runs both in a scratch copy of this directory. Both take their
// version from -ldflags "-X main.version=..." and it must be the @pulumi/random
// version the project pins.
package pulumiresourcerandom

// Wrapper module for the Node.js language host. Upstream it is its own module,
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 (it is not
// inside the sdk/v3 module zip). UNVERIFIED: the Go module proxy refuses it
// (HTTP 403), as it refuses pkg/v3 which it imports; see docs/local-engine.md.
module platform.local/tools/pulumi-language-nodejs

go 1.24.0

require (
	github.com/pulumi/pulumi/pkg/v3 v3.241.0
	github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 v3.241.0
	github.com/pulumi/pulumi/sdk/v3 v3.241.0
)

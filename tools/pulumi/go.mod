// Wrapper module for the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi).
// toolchain.sh pins both requires to the @pulumi/pulumi version in package.json
// with `go mod edit` before building. UNVERIFIED: the Go module proxy reachable
// from this project's machines refuses github.com/pulumi/pulumi/pkg/v3 (HTTP 403
// "This module version is not available"), so this has never resolved here;
// see docs/local-engine.md.
module platform.local/tools/pulumi

go 1.24.0

require (
	github.com/pulumi/pulumi/pkg/v3 v3.241.0
	github.com/pulumi/pulumi/sdk/v3 v3.241.0
)

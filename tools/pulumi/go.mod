// Wrapper module for the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi).
// pkg/v3 cannot be `go install`ed: its go.mod has replace directives, which only
// apply in the main module. This module restates the one that is not local
// (clipboard); toolchain.sh pins both requires to PULUMI_CLI_VERSION from
// scripts/engine/versions.env with `go mod edit` before building.
module platform.local/tools/pulumi

go 1.26.6

require (
	github.com/pulumi/pulumi/pkg/v3 v3.276.0
	github.com/pulumi/pulumi/sdk/v3 v3.276.0
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

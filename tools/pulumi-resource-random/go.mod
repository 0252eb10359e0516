// Wrapper module for the random provider plugin. UNVERIFIED: the Go module proxy
// refuses github.com/pulumi/pulumi-random/provider/v4 and the terraform bridge it
// is built on (HTTP 403). Upstream's cmd embeds generated schema and bridge
// metadata that are not part of the module zip; see docs/local-engine.md.
module platform.local/tools/pulumi-resource-random

go 1.24.0

require github.com/pulumi/pulumi-random/provider/v4 v4.21.2

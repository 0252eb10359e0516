// Command gen writes schema.json and bridge-metadata.json for the plugin:
//
//	go run -ldflags "-X main.version=$VERSION" ./cmd/gen schema --skip-examples --out cmd/pulumi-resource-random
//
// It is the bridge's tfgen (Plugin Framework flavour) run against the same
// mapping as the plugin, so the embedded schema is the real one, not a stub.
package main

import (
	"os"
	"os/exec"
	"strings"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"platform.local/tools/pulumi-resource-random/internal/randominfo"
)

// version is set with -ldflags "-X main.version=..."; it must equal the plugin's.
var version = "0.0.0-dev"

func main() {
	info := randominfo.Provider(version, nil)
	// tfgen reads the resource docs (descriptions) from the upstream module;
	// by default it looks for a ./provider dir, so point it at the module cache.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}",
		"github.com/terraform-providers/terraform-provider-random").Output()
	if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
		info.UpstreamRepoPath = dir
	} else {
		os.Args = append(os.Args, "--skip-docs")
	}
	pftfgen.Main("random", info)
}

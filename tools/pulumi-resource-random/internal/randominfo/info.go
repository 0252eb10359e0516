// Package randominfo maps terraform-provider-random onto the Pulumi "random"
// package. The generator (cmd/gen) and the plugin (cmd/pulumi-resource-random)
// must see the same mapping, so both build it here.
package randominfo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tfshim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	randomshim "github.com/terraform-providers/terraform-provider-random/shim"
)

// Provider returns the bridge mapping. metadata is bridge-metadata.json as
// written by cmd/gen (nil while generating it).
func Provider(version string, metadata []byte) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(randomshim.NewProvider()),
		Name:         "random",
		Version:      version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-random",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources:    map[string]*tfbridge.ResourceInfo{},
		// pulumi-random's own mapping sets both; keeping them keeps the state this
		// build writes shaped like the published provider's.
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	// Tokens follow the published SDK's __pulumiType values:
	// random_password -> random:index/randomPassword:RandomPassword.
	info.P.ResourcesMap().Range(func(tfName string, _ tfshim.Resource) bool {
		name := "Random" + camel(strings.TrimPrefix(tfName, "random_"))
		info.Resources[tfName] = &tfbridge.ResourceInfo{
			Tok: tfbridge.MakeResource("random", "index", name),
		}
		return true
	})
	// random_bytes has no "id" attribute; like upstream, its id is the value.
	if r, ok := info.Resources["random_bytes"]; ok {
		r.ComputeID = idFromBase64
	}
	return info
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

func idFromBase64(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes: no base64 property in state")
	}
	// base64 is sensitive, so it arrives wrapped as a secret; ids cannot be.
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", fmt.Errorf("random_bytes: base64 is %v, not a string", v.TypeString())
	}
	return resource.ID(v.StringValue()), nil
}

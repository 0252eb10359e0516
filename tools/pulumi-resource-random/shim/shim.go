// Package shim re-exports the random provider's Plugin Framework provider,
// which upstream keeps in an internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"

	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream terraform-provider-random provider.
func NewProvider() provider.Provider { return upstream.New() }

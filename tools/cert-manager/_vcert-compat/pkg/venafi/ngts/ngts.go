// Package ngts is added by tools/cert-manager/build.sh (not upstream vcert):
// the name cert-manager's Venafi client type-asserts against. vcert v5.12.3,
// which this build uses because the Go module proxy refuses v5.13.x, never
// returns an NGTS connector, so no value of this type is ever made
// (see ../../endpoint/ngts_compat.go).
package ngts

import "github.com/Venafi/vcert/v5/pkg/endpoint"

// Connector has the method set of every vcert connector.
type Connector struct {
	endpoint.Connector
}

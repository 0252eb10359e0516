// Command controller is cert-manager's controller manager (the chart's
// "cert-manager" Deployment): every controller registered by the packages
// imported below, with leader election, a metrics server, a /livez server and
// an optional profiler, configured by flags and a ControllerConfiguration file.
package main

import (
	"github.com/cert-manager/cert-manager/platformshim/internal/cli"

	// The controllers and issuers the released binary registers.
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/listenerset"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/venafi"
)

const component = "controller"

func main() { cli.Main(component, newCommand) }

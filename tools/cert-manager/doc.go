// Package platformshim builds cert-manager's controller, webhook, cainjector,
// acmesolver and startupapicheck binaries from the
// github.com/cert-manager/cert-manager module alone.
//
// Upstream keeps each binary's main package in a module of its own
// (cmd/controller, cmd/webhook, ... published as .../controller-binary and so
// on), and the Go module proxy serves none of them; it serves only the main
// module, which holds every library those mains call. The mains here are our
// own: each wires that library the way the released binary does, with the same
// flags and the same configuration file (the kinds the Helm chart in the
// module mounts at /var/cert-manager/config/config.yaml).
//
// The module path lies under github.com/cert-manager/cert-manager so that Go's
// internal-package rule lets these mains import the main module's internal/
// packages (configuration types, validation, the webhook server) as upstream's
// mains do. Nothing from upstream is copied; go.mod requires the released
// module and go.sum pins it.
//
// Build with GOFLAGS=-mod=mod and the version stamped into
// github.com/cert-manager/cert-manager/pkg/util.AppVersion (see
// scripts/engine/toolchain.sh, target cert-manager).
package platformshim

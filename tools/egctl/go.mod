// Wrapper module: builds egctl (Envoy Gateway's CLI, whose `x translate` runs the
// controller's own Gateway API → xDS translation offline) from
// github.com/envoyproxy/gateway through the Go module proxy. The version is the
// Envoy Gateway chart pin (CHART_VERSIONS.envoyGateway in config/settings.ts);
// test/egctl-translate.test.ts checks the two agree.
module platform.local/tools/egctl

go 1.26.7

require github.com/envoyproxy/gateway v1.9.1

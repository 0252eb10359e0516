// Wrapper module: builds Alertmanager (cmd/alertmanager) through the Go module proxy.
module platform.local/tools/alertmanager

go 1.25.0

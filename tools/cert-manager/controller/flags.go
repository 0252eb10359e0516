package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	defaults "github.com/cert-manager/cert-manager/internal/apis/config/controller/v1alpha1"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

// addFlags registers the released controller's command-line flags, each bound
// to the ControllerConfiguration field it sets (a flag given on the command
// line wins over the --config file). Settings with no flag upstream, such as
// pemSizeLimitsConfig, gatewayAPI.extraProtocols and the CertificateRequest
// backoff durations, are set through the file.
func addFlags(fs *pflag.FlagSet, c *config.ControllerConfiguration) {
	// API server connection and scope.
	fs.StringVar(&c.APIServerHost, "master", c.APIServerHost, "Optional apiserver host address to connect to. If not specified, autoconfiguration will be attempted.")
	fs.StringVar(&c.KubeConfig, "kubeconfig", c.KubeConfig, "Paths to a kubeconfig. Only required if out-of-cluster.")
	fs.Float32Var(&c.KubernetesAPIQPS, "kube-api-qps", c.KubernetesAPIQPS, "The maximum queries-per-second of requests sent to the Kubernetes apiserver.")
	fs.IntVar(&c.KubernetesAPIBurst, "kube-api-burst", c.KubernetesAPIBurst, "The maximum burst of requests sent to the Kubernetes apiserver.")
	fs.StringVar(&c.ClusterResourceNamespace, "cluster-resource-namespace", c.ClusterResourceNamespace, "Namespace to store resources owned by cluster scoped resources such as ClusterIssuer in. This must be specified if ClusterIssuers are enabled.")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, this limits the scope of cert-manager to a single namespace and ClusterIssuers are disabled. If not specified, all namespaces will be watched.")

	// Leader election.
	le := &c.LeaderElectionConfig
	fs.BoolVar(&le.Enabled, "leader-elect", le.Enabled, "If true, cert-manager will perform leader election between instances to ensure no more than one instance of cert-manager operates at a time.")
	fs.StringVar(&le.Namespace, "leader-election-namespace", le.Namespace, "Namespace used to perform leader election. Only used if leader election is enabled.")
	fs.DurationVar(&le.LeaseDuration, "leader-election-lease-duration", le.LeaseDuration, "How long non-leader candidates wait after observing a leadership renewal before trying to take over an unrenewed lease.")
	fs.DurationVar(&le.RenewDeadline, "leader-election-renew-deadline", le.RenewDeadline, "How long the leader keeps retrying to renew its lease before it stops leading. Must be at most the lease duration.")
	fs.DurationVar(&le.RetryPeriod, "leader-election-retry-period", le.RetryPeriod, "How long clients wait between attempts to acquire or renew the lease.")

	fs.StringSliceVar(&c.Controllers, "controllers", c.Controllers, fmt.Sprintf(
		"A list of controllers to enable. '--controllers=*' enables all on-by-default controllers, '--controllers=foo' enables just the controller named 'foo', '--controllers=*,-foo' disables the controller named 'foo'.\nAll controllers: %s",
		strings.Join(defaults.AllControllers, ", ")))

	// ACME HTTP-01 solver pods.
	h := &c.ACMEHTTP01Config
	fs.StringVar(&h.SolverImage, "acme-http01-solver-image", h.SolverImage, "The image to use to solve ACME HTTP01 challenges.")
	fs.StringVar(&h.SolverResourceRequestCPU, "acme-http01-solver-resource-request-cpu", h.SolverResourceRequestCPU, "CPU request of the ACME HTTP01 challenge solver pods.")
	fs.StringVar(&h.SolverResourceRequestMemory, "acme-http01-solver-resource-request-memory", h.SolverResourceRequestMemory, "Memory request of the ACME HTTP01 challenge solver pods.")
	fs.StringVar(&h.SolverResourceLimitsCPU, "acme-http01-solver-resource-limits-cpu", h.SolverResourceLimitsCPU, "CPU limit of the ACME HTTP01 challenge solver pods.")
	fs.StringVar(&h.SolverResourceLimitsMemory, "acme-http01-solver-resource-limits-memory", h.SolverResourceLimitsMemory, "Memory limit of the ACME HTTP01 challenge solver pods.")
	fs.BoolVar(&h.SolverRunAsNonRoot, "acme-http01-solver-run-as-non-root", h.SolverRunAsNonRoot, "Run the ACME HTTP01 challenge solver pods as a non-root user (set false only to troubleshoot).")
	fs.StringVar(&h.SolverRuntimeClassName, "acme-http01-solver-runtime-class-name", h.SolverRuntimeClassName, "runtimeClassName of the ACME HTTP01 challenge solver pods.")
	fs.StringSliceVar(&h.SolverNameservers, "acme-http01-solver-nameservers", h.SolverNameservers, "Comma-separated host:port DNS servers used for ACME HTTP01 self-check requests, for example 8.8.8.8:53,8.8.4.4:53.")
	fs.Var(cliflag.NewMapStringString(&h.SolverExtraLabels), "acme-http01-solver-extra-labels", "Extra labels (key=value, repeatable or comma-separated) for every resource created to solve ACME HTTP01 challenges.")

	// Ambient credentials and ingress/gateway shims.
	fs.BoolVar(&c.ClusterIssuerAmbientCredentials, "cluster-issuer-ambient-credentials", c.ClusterIssuerAmbientCredentials, "Whether a ClusterIssuer may use ambient credentials (environment, metadata services, local files) not configured in its spec.")
	fs.BoolVar(&c.IssuerAmbientCredentials, "issuer-ambient-credentials", c.IssuerAmbientCredentials, "Whether an Issuer may use ambient credentials (environment, metadata services, local files) not configured in its spec.")
	is := &c.IngressShimConfig
	fs.StringSliceVar(&is.DefaultAutoCertificateAnnotations, "auto-certificate-annotations", is.DefaultAutoCertificateAnnotations, "The annotation consumed by the ingress-shim controller to indicate an ingress is requesting a certificate.")
	fs.StringSliceVar(&is.ExtraCertificateAnnotations, "extra-certificate-annotations", is.ExtraCertificateAnnotations, "Extra annotations the ingress-shim controller copies onto the Certificates it creates.")
	fs.StringVar(&is.DefaultIssuerName, "default-issuer-name", is.DefaultIssuerName, "Issuer name used when TLS is requested without an issuer name annotation.")
	fs.StringVar(&is.DefaultIssuerKind, "default-issuer-kind", is.DefaultIssuerKind, "Issuer kind used when TLS is requested without an issuer kind annotation.")
	fs.StringVar(&is.DefaultIssuerGroup, "default-issuer-group", is.DefaultIssuerGroup, "Issuer group used when TLS is requested without an issuer group annotation.")

	// ACME DNS-01 self checks.
	d := &c.ACMEDNS01Config
	fs.StringSliceVar(&d.RecursiveNameservers, "dns01-recursive-nameservers", d.RecursiveNameservers, "Comma-separated DNS servers (<ip>:<port>) or DNS-over-HTTPS endpoints (https://...) used for DNS01 self checks.")
	fs.BoolVar(&d.RecursiveNameserversOnly, "dns01-recursive-nameservers-only", d.RecursiveNameserversOnly, "Only ever query the configured recursive nameservers for the DNS01 self check.")
	fs.DurationVar(&d.CheckRetryPeriod, "dns01-check-retry-period", d.CheckRetryPeriod, "Wait between DNS01 and HTTP01 propagation checks, for example 180s or 1h.")

	fs.BoolVar(&c.EnableCertificateOwnerRef, "enable-certificate-owner-ref", c.EnableCertificateOwnerRef, "Make each Certificate an owner of its Secret, so that deleting the Certificate deletes the Secret.")
	//nolint:staticcheck // the flag sets gatewayAPI.enabled too (syncDeprecatedGatewayFields)
	fs.BoolVar(&c.EnableGatewayAPI, "enable-gateway-api", c.EnableGatewayAPI, "Whether the Gateway API integration is enabled (the ExperimentalGatewayAPISupport feature gate must be on too).")
	fs.StringSliceVar(&c.CopiedAnnotationPrefixes, "copied-annotation-prefixes", c.CopiedAnnotationPrefixes, "Annotation key prefixes copied from Certificate to CertificateRequest and Order; a leading '-' excludes a prefix, e.g. '*,-kubectl.kubernetes.io/'.")
	fs.Var(cliflag.NewMapStringBool(&c.FeatureGates), "feature-gates", "A set of key=value pairs that describe feature gates for alpha/experimental features. Options are:\n"+
		strings.Join(utilfeature.DefaultFeatureGate.KnownFeatures(), "\n"))

	fs.IntVar(&c.NumberOfConcurrentWorkers, "concurrent-workers", c.NumberOfConcurrentWorkers, "The number of concurrent workers for each controller.")
	fs.IntVar(&c.MaxConcurrentChallenges, "max-concurrent-challenges", c.MaxConcurrentChallenges, "The maximum number of challenges that can be scheduled as 'processing' at once.")

	// Metrics, profiler and health endpoints.
	fs.StringVar(&c.MetricsListenAddress, "metrics-listen-address", c.MetricsListenAddress, "The host and port that the metrics endpoint should listen on.")
	fs.BoolVar(&c.EnablePprof, "enable-profiling", c.EnablePprof, "Enable profiling for controller.")
	fs.StringVar(&c.PprofAddress, "profiler-address", c.PprofAddress, "The host and port the Go profiler listens on (never a public address); served at /debug/pprof.")
	cli.AddMetricsTLSFlags(fs, &c.MetricsTLSConfig)
	fs.StringVar(&c.HealthzListenAddress, "internal-healthz-listen-address", c.HealthzListenAddress, "The host and port the healthz server (/livez, the liveness probe) listens on.")
	cli.MustHide(fs, "internal-healthz-listen-address")
	fs.DurationVar(&le.HealthzTimeout, "internal-healthz-leader-election-timeout", le.HealthzTimeout, "How long after the lease expires leader election health checks still pass.")
	cli.MustHide(fs, "internal-healthz-leader-election-timeout")

	logf.AddFlags(&c.Logging, fs)
}

// Command cainjector copies CA bundles into webhook configurations, APIServices
// and CRD conversion webhooks annotated with cert-manager.io/inject-ca-from
// (or inject-ca-from-secret, inject-apiserver-ca), as a controller-runtime
// manager with leader election and a metrics server, configured by flags and a
// CAInjectorConfiguration file.
package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	cliflag "k8s.io/component-base/cli/flag"
	ctrl "sigs.k8s.io/controller-runtime"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/cainjector/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/cainjector/validation"
	_ "github.com/cert-manager/cert-manager/internal/cainjector/feature" // registers the cainjector's feature gates
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/cainjector/v1alpha1"
	cainjectorconfigfile "github.com/cert-manager/cert-manager/pkg/cainjector/configfile"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

const component = "cainjector"

func main() { cli.Main(component, newCommand) }

func newCommand() *cobra.Command {
	cfg, err := defaultConfiguration()
	if err != nil {
		panic(fmt.Errorf("building the default CAInjectorConfiguration: %w", err))
	}
	var configPath string
	allArgs := cli.Args()
	// controller-runtime (the webhook's server, the cainjector's manager) logs through cert-manager's logger.
	ctrl.SetLogger(logf.Log)

	cmd := &cobra.Command{
		Use:   component,
		Short: fmt.Sprintf("CA Injection Controller for Kubernetes (%s) (%s)", util.AppVersion, util.AppGitCommit),
		Long: `
cert-manager CA injector is a Kubernetes addon to automate the injection of CA data into
webhooks and APIServices from cert-manager certificates.

It will ensure that annotated webhooks and API services always have the correct
CA data from the referenced certificates, which can then be used to serve API
servers and webhook servers.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			file := cainjectorconfigfile.New()
			if err := cli.LoadConfigFile(cmd, allArgs, configPath, file,
				func() { file.Config.DeepCopyInto(cfg) },
				func() error { return utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates) },
			); err != nil {
				return err
			}
			if errs := validation.ValidateCAInjectorConfiguration(cfg, nil); len(errs) > 0 {
				return fmt.Errorf("error validating flags: %w", errs.ToAggregate())
			}
			if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
				return fmt.Errorf("failed to validate cainjector logging flags: %w", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), cfg) },
	}
	cmd.Flags().StringVar(&configPath, "config", "", "Path to a file containing a CAInjectorConfiguration object used to configure the controller")
	addFlags(cmd.Flags(), cfg)
	cmd.SetArgs(allArgs)
	return cmd
}

func defaultConfiguration() (*config.CAInjectorConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	versioned := &configv1alpha1.CAInjectorConfiguration{}
	scheme.Default(versioned)
	cfg := &config.CAInjectorConfiguration{}
	if err := scheme.Convert(versioned, cfg, nil); err != nil {
		return nil, err
	}
	return cfg, nil
}

// addFlags registers the released cainjector's flags, each bound to the
// CAInjectorConfiguration field it sets. ignoreNamespaces is set through the
// --config file.
func addFlags(fs *pflag.FlagSet, c *config.CAInjectorConfiguration) {
	fs.StringVar(&c.KubeConfig, "kubeconfig", c.KubeConfig, "Paths to a kubeconfig. Only required if out-of-cluster.")
	fs.StringVar(&c.Namespace, "namespace", c.Namespace, "If set, cainjector only updates resources with certificates in this namespace.")

	le := &c.LeaderElectionConfig
	fs.BoolVar(&le.Enabled, "leader-elect", le.Enabled, "If true, cainjector will perform leader election between instances to ensure no more than one instance of cainjector operates at a time.")
	fs.StringVar(&le.Namespace, "leader-election-namespace", le.Namespace, "Namespace used to perform leader election. Only used if leader election is enabled.")
	fs.DurationVar(&le.LeaseDuration, "leader-election-lease-duration", le.LeaseDuration, "How long non-leader candidates wait after observing a leadership renewal before trying to take over an unrenewed lease.")
	fs.DurationVar(&le.RenewDeadline, "leader-election-renew-deadline", le.RenewDeadline, "How long the leader keeps retrying to renew its lease before it stops leading. Must be at most the lease duration.")
	fs.DurationVar(&le.RetryPeriod, "leader-election-retry-period", le.RetryPeriod, "How long clients wait between attempts to acquire or renew the lease.")

	fs.BoolVar(&c.EnableDataSourceConfig.Certificates, "enable-certificates-data-source", c.EnableDataSourceConfig.Certificates, "Use cert-manager.io Certificates as CA data sources (needs the Certificate CRD).")
	inj := &c.EnableInjectableConfig
	fs.BoolVar(&inj.ValidatingWebhookConfigurations, "enable-validatingwebhookconfigurations-injectable", inj.ValidatingWebhookConfigurations, "Inject CA data into annotated ValidatingWebhookConfigurations (cert-manager's own webhook needs it).")
	fs.BoolVar(&inj.MutatingWebhookConfigurations, "enable-mutatingwebhookconfigurations-injectable", inj.MutatingWebhookConfigurations, "Inject CA data into annotated MutatingWebhookConfigurations (cert-manager's own webhook needs it).")
	fs.BoolVar(&inj.CustomResourceDefinitions, "enable-customresourcedefinitions-injectable", inj.CustomResourceDefinitions, "Inject CA data into annotated CustomResourceDefinitions' conversion webhooks.")
	fs.BoolVar(&inj.APIServices, "enable-apiservices-injectable", inj.APIServices, "Inject CA data into annotated APIServices.")

	fs.BoolVar(&c.EnablePprof, "enable-profiling", c.EnablePprof, "Enable profiling for cainjector.")
	fs.StringVar(&c.PprofAddress, "profiler-address", c.PprofAddress, "The host and port the Go profiler listens on (never a public address); served at /debug/pprof.")
	fs.Var(cliflag.NewMapStringBool(&c.FeatureGates), "feature-gates", "A set of key=value pairs that describe feature gates for alpha/experimental features. Options are:\n"+
		strings.Join(utilfeature.DefaultFeatureGate.KnownFeatures(), "\n"))
	logf.AddFlags(&c.Logging, fs)

	fs.StringVar(&c.MetricsListenAddress, "metrics-listen-address", c.MetricsListenAddress, "The host and port that the metrics endpoint should listen on. The value '0' disables the metrics server.")
	cli.AddMetricsTLSFlags(fs, &c.MetricsTLSConfig)
}

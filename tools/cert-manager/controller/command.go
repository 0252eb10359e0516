package main

import (
	"fmt"

	"github.com/spf13/cobra"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	configscheme "github.com/cert-manager/cert-manager/internal/apis/config/controller/scheme"
	"github.com/cert-manager/cert-manager/internal/apis/config/controller/validation"
	configv1alpha1 "github.com/cert-manager/cert-manager/pkg/apis/config/controller/v1alpha1"
	controllerconfigfile "github.com/cert-manager/cert-manager/pkg/controller/configfile"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

func newCommand() *cobra.Command {
	cfg, err := defaultConfiguration()
	if err != nil {
		// Only a broken build can fail here: the defaults are compiled in.
		panic(fmt.Errorf("building the default ControllerConfiguration: %w", err))
	}
	var configPath string
	allArgs := cli.Args()

	cmd := &cobra.Command{
		Use:   component,
		Short: fmt.Sprintf("Automated TLS controller for Kubernetes (%s) (%s)", util.AppVersion, util.AppGitCommit),
		Long: `
cert-manager is a Kubernetes addon to automate the management and issuance of
TLS certificates from various issuing sources.

It will ensure certificates are valid and up to date periodically, and attempt
to renew certificates at an appropriate time before expiry.`,
		SilenceErrors: true, // Main logs the error
		SilenceUsage:  true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return completeConfiguration(cmd, allArgs, configPath, cfg)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "Path to a file containing a ControllerConfiguration object used to configure the controller")
	addFlags(cmd.Flags(), cfg)
	cmd.SetArgs(allArgs)
	return cmd
}

// defaultConfiguration is the v1alpha1 ControllerConfiguration with its
// defaults applied, converted to the internal type the library works with.
func defaultConfiguration() (*config.ControllerConfiguration, error) {
	scheme, _, err := configscheme.NewSchemeAndCodecs()
	if err != nil {
		return nil, err
	}
	versioned := &configv1alpha1.ControllerConfiguration{}
	scheme.Default(versioned)
	cfg := &config.ControllerConfiguration{}
	if err := scheme.Convert(versioned, cfg, nil); err != nil {
		return nil, err
	}
	return cfg, nil
}

// completeConfiguration layers flags over the --config file, then validates
// the result with the module's own validation and applies logging and PEM
// limits.
func completeConfiguration(cmd *cobra.Command, allArgs []string, configPath string, cfg *config.ControllerConfiguration) error {
	file := controllerconfigfile.New()
	err := cli.LoadConfigFile(cmd, allArgs, configPath, file,
		func() { file.Config.DeepCopyInto(cfg) },
		func() error {
			syncDeprecatedGatewayFields(cmd, cfg)
			if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates); err != nil {
				return fmt.Errorf("failed to set feature gates: %w", err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if errs := validation.ValidateControllerConfiguration(cfg, nil); len(errs) > 0 {
		return fmt.Errorf("error validating flags: %w", errs.ToAggregate())
	}
	if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
		return fmt.Errorf("failed to validate controller logging flags: %w", err)
	}
	l := cfg.PEMSizeLimitsConfig
	cli.ApplyPEMSizeLimits(logf.Log, l.MaxCertificateSize, l.MaxPrivateKeySize, l.MaxChainLength, l.MaxBundleSize)
	return nil
}

// syncDeprecatedGatewayFields keeps the deprecated top-level Gateway API
// switches and gatewayAPI.* in step, as the v1alpha1 defaulting does for the
// file: a flag given on the command line sets both.
func syncDeprecatedGatewayFields(cmd *cobra.Command, cfg *config.ControllerConfiguration) {
	//nolint:staticcheck // the deprecated fields are still read by the library
	if cmd.Flags().Changed("enable-gateway-api") {
		cfg.GatewayAPIConfig.Enabled = cfg.EnableGatewayAPI
	}
	cfg.EnableGatewayAPI = cfg.GatewayAPIConfig.Enabled
	cfg.EnableGatewayAPIListenerSet = cfg.GatewayAPIConfig.EnableListenerSet
}

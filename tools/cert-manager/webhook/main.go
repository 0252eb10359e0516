// Command webhook is cert-manager's admission webhook: validation, defaulting
// and conversion for the cert-manager.io and acme.cert-manager.io resources,
// served over TLS with a /healthz and /livez server, configured by flags and a
// WebhookConfiguration file. The flags are the main module's own
// (pkg/webhook/options), the server is internal/webhook's.
package main

import (
	"fmt"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	config "github.com/cert-manager/cert-manager/internal/apis/config/webhook"
	"github.com/cert-manager/cert-manager/internal/apis/config/webhook/validation"
	cmwebhook "github.com/cert-manager/cert-manager/internal/webhook"
	_ "github.com/cert-manager/cert-manager/internal/webhook/feature" // registers the webhook's feature gates
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	webhookconfigfile "github.com/cert-manager/cert-manager/pkg/webhook/configfile"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

const component = "webhook"

func main() { cli.Main(component, newCommand) }

func newCommand() *cobra.Command {
	flags := options.NewWebhookFlags()
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		panic(fmt.Errorf("building the default WebhookConfiguration: %w", err))
	}
	allArgs := cli.Args()
	// controller-runtime (the webhook's server, the cainjector's manager) logs through cert-manager's logger.
	ctrl.SetLogger(logf.Log)

	cmd := &cobra.Command{
		Use: component,
		Short: fmt.Sprintf("Webhook component providing API validation, mutation and conversion functionality for cert-manager (%s) (%s)",
			util.AppVersion, util.AppGitCommit),
		SilenceErrors: true,
		SilenceUsage:  true,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			file := webhookconfigfile.New()
			if err := cli.LoadConfigFile(cmd, allArgs, flags.Config, file,
				func() { file.Config.DeepCopyInto(cfg) },
				func() error { return utilfeature.DefaultMutableFeatureGate.SetFromMap(cfg.FeatureGates) },
			); err != nil {
				return err
			}
			if errs := validation.ValidateWebhookConfiguration(cfg, nil); len(errs) > 0 {
				return fmt.Errorf("error validating flags: %w", errs.ToAggregate())
			}
			if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
				return fmt.Errorf("failed to validate webhook logging flags: %w", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd, cfg) },
	}
	flags.AddFlags(cmd.Flags())
	options.AddConfigFlags(cmd.Flags(), cfg)
	cmd.SetArgs(allArgs)
	return cmd
}

// run serves until the command's context ends; the server then shuts down
// its listeners gracefully.
func run(cmd *cobra.Command, cfg *config.WebhookConfiguration) error {
	log := logf.FromContext(cmd.Context())
	log.Info("starting cert-manager webhook", "version", cli.VersionString(component))
	srv, err := cmwebhook.NewCertManagerWebhookServer(log, *cfg)
	if err != nil {
		return err
	}
	return cli.IgnoreCanceled(srv.Run(cmd.Context()))
}

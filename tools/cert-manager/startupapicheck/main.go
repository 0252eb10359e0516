// Command startupapicheck is what the chart's post-install Job runs
// (`check api --wait=<timeout> -v`): it retries cert-manager's own API check
// (pkg/util/cmapichecker: a dry-run CertificateRequest through the webhook)
// until it passes or --wait runs out, so that `helm install` returns only once
// Certificates can be created. Upstream's main lives in a module of its own
// that the Go module proxy does not serve; the check is the main module's.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util/cmapichecker"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

const component = "startupapicheck"

func main() { cli.Main(component, newCommand) }

func newCommand() *cobra.Command {
	root := &cobra.Command{Use: component, SilenceErrors: true, SilenceUsage: true}
	check := &cobra.Command{Use: "check", Short: "Check cert-manager components"}
	var wait, interval time.Duration
	var namespace string
	var verbose bool
	api := &cobra.Command{
		Use:   "api",
		Short: "Check that the cert-manager API is ready (a dry-run CertificateRequest is admitted by the webhook)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			config, err := rest.InClusterConfig()
			if err != nil {
				return fmt.Errorf("in-cluster configuration: %w", err)
			}
			checker, err := cmapichecker.New(config, namespace)
			if err != nil {
				return err
			}
			return waitForAPI(cmd.Context(), checker, wait, interval, verbose)
		},
	}
	api.Flags().DurationVar(&wait, "wait", 0, "keep retrying for this long (0: check once)")
	api.Flags().DurationVar(&interval, "interval", 5*time.Second, "time between attempts")
	api.Flags().StringVarP(&namespace, "namespace", "n", podNamespace(), "namespace of the dry-run CertificateRequest (default: the pod's own, where the chart grants it)")
	api.Flags().BoolVarP(&verbose, "verbose", "v", false, "print each failed attempt's full error")
	check.AddCommand(api)
	root.AddCommand(check)
	return root
}

// podNamespace is the namespace the pod runs in, as its service account token
// states it: the chart's Role lets the Job create CertificateRequests there.
func podNamespace() string {
	ns, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil || strings.TrimSpace(string(ns)) == "" {
		return "default"
	}
	return strings.TrimSpace(string(ns))
}

// waitForAPI runs the check until it passes, the context ends or wait runs out.
func waitForAPI(ctx context.Context, checker cmapichecker.Interface, wait, interval time.Duration, verbose bool) error {
	log := logf.FromContext(ctx)
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		err := checker.Check(ctx)
		if err == nil {
			fmt.Println("The cert-manager API is ready")
			return nil
		}
		simple := cmapichecker.TranslateToSimpleError(err)
		if simple == nil {
			simple = err
		}
		if verbose {
			log.Error(err, "the cert-manager API is not ready yet", "attempt", attempt)
		}
		if !time.Now().Add(interval).Before(deadline) {
			return fmt.Errorf("the cert-manager API was not ready after %s: %w", wait, simple)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), simple)
		case <-time.After(interval):
		}
	}
}

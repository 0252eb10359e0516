// Command acmesolver answers one ACME HTTP-01 challenge: the controller runs it
// in a pod per challenge with --listen-port, --domain, --token and --key, and
// it serves the key at /.well-known/acme-challenge/<token> for that domain.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/component-base/logs"

	"github.com/cert-manager/cert-manager/pkg/issuer/acme/http/solver"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

const component = "acmesolver"

func main() { cli.Main(component, newCommand) }

func newCommand() *cobra.Command {
	s := &solver.HTTP01Solver{}
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:           component,
		Short:         "HTTP server used to solve ACME challenges.",
		SilenceErrors: true,
		SilenceUsage:  true,
		PreRunE: func(*cobra.Command, []string) error {
			if err := logf.ValidateAndApply(logOptions); err != nil {
				return fmt.Errorf("error validating options: %w", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log := logf.FromContext(ctx)
			stopped := make(chan error, 1)
			go func() {
				<-ctx.Done()
				shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				stopped <- s.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is already done
			}()
			if err := s.Listen(log); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return <-stopped
		},
	}
	cmd.Flags().IntVar(&s.ListenPort, "listen-port", 8089, "the port number to listen on for connections")
	cmd.Flags().StringVar(&s.Domain, "domain", "", "the domain name to verify")
	cmd.Flags().StringVar(&s.Token, "token", "", "the challenge token to verify against")
	cmd.Flags().StringVar(&s.Key, "key", "", "the challenge key to respond with")
	cmd.SetArgs(cli.Args())
	return cmd
}

// Package cli holds what the four cert-manager mains share: process setup and
// exit codes, --version, loading the component's configuration file under the
// command line's flags, and the TLS certificate sources for serving endpoints.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	cliflag "k8s.io/component-base/cli/flag"

	"github.com/cert-manager/cert-manager/internal/apis/config/shared"
	cmdutil "github.com/cert-manager/cert-manager/internal/cmd/util"
	"github.com/cert-manager/cert-manager/internal/pem"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server/tls"
	"github.com/cert-manager/cert-manager/pkg/server/tls/authority"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/cert-manager/cert-manager/pkg/util/configfile"
)

// Main runs the command built by newCommand the way cert-manager's own mains
// do: a first SIGINT/SIGTERM cancels the command's context, servers and
// controllers shut down gracefully and the process exits 0; a second signal
// exits at once (130); an error exits 1 (124 for a timeout).
func Main(component string, newCommand func() *cobra.Command) {
	ctx, exit := cmdutil.SetupExitHandler(context.Background(), cmdutil.GracefulShutdown)
	defer exit() // may call os.Exit, so it runs last

	logf.InitLogs()
	defer logf.FlushLogs()
	ctx = logf.NewContext(ctx, logf.Log, component)

	cmd := newCommand()
	cmd.Flags().AddGoFlagSet(flag.CommandLine)
	addVersionFlag(cmd, component)

	if err := cmd.ExecuteContext(ctx); err != nil {
		logf.Log.Error(err, "error executing command")
		cmdutil.SetExitCode(err)
	}
}

// VersionString is what --version prints and what the toolchain checks:
// "cert-manager <component> <version>[ (<commit>)] <go version> <os/arch>".
func VersionString(component string) string {
	v := util.VersionInfo()
	s := fmt.Sprintf("cert-manager %s %s", component, v.GitVersion)
	if v.GitCommit != "" {
		s += " (" + v.GitCommit + ")"
	}
	return s + " " + v.GoVersion + " " + v.Platform
}

// addVersionFlag adds --version, which prints VersionString and exits before
// any configuration is read or validated.
func addVersionFlag(cmd *cobra.Command, component string) {
	var show bool
	cmd.Flags().BoolVar(&show, "version", false, "Print the version and exit")
	pre := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		if show {
			return nil
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
	run := cmd.RunE
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if show {
			fmt.Fprintln(c.OutOrStdout(), VersionString(component))
			return nil
		}
		return run(c, args)
	}
}

// LoadConfigFile applies the configuration file at path (if any) under the
// command line, as upstream's binaries do: apply runs on the flags alone (it
// sets the feature gates, which decoding the file may depend on), the file is
// decoded into file and copied over the configuration by copyFile, the command
// line is parsed again so that every flag given overrides the file, and apply
// runs again on the result.
//
// file is one of the module's typed loaders (pkg/controller/configfile,
// pkg/webhook/configfile, pkg/cainjector/configfile).
func LoadConfigFile(cmd *cobra.Command, allArgs []string, path string, file configfile.ConfigFile, copyFile func(), apply func() error) error {
	if err := apply(); err != nil {
		return err
	}
	if path == "" {
		return nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("failed to load config file %s: %w", path, err)
	}
	loader, err := configfile.NewConfigurationFSLoader(nil, abs)
	if err != nil {
		return fmt.Errorf("failed to load config file %s: %w", path, err)
	}
	if err := loader.Load(file); err != nil {
		return fmt.Errorf("failed to load config file %s: %w", path, err)
	}
	copyFile()

	_, args, err := cmd.Root().Find(allArgs)
	if err != nil {
		return fmt.Errorf("failed to re-parse flags: %w", err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		return fmt.Errorf("failed to re-parse flags: %w", err)
	}
	return apply()
}

// ApplyPEMSizeLimits makes the validated PEM size limits of a configuration
// the process-wide limits every PEM decode in cert-manager checks against.
func ApplyPEMSizeLimits(log logr.Logger, maxCertificate, maxPrivateKey, maxChain, maxBundle int) {
	limits := pem.NewSizeLimitsFromConfig(maxCertificate, maxPrivateKey, maxChain, maxBundle)
	pem.SetGlobalSizeLimits(limits)
	log.V(logf.DebugLevel).Info("PEM size limits", "limits", limits)
}

// CertificateSource returns the TLS certificate source a TLSConfig asks for:
// files on disk, or leaf certificates signed by a CA kept in a Secret
// (created when missing), or nil when neither is configured (plain HTTP).
func CertificateSource(log logr.Logger, cfg shared.TLSConfig, restConfig *rest.Config, managedBy string) tls.CertificateSource {
	switch {
	case cfg.FilesystemConfigProvided():
		log.V(logf.InfoLevel).Info("using TLS certificate from local filesystem", "private_key_path", cfg.Filesystem.KeyFile, "certificate", cfg.Filesystem.CertFile)
		return &tls.FileCertificateSource{CertPath: cfg.Filesystem.CertFile, KeyPath: cfg.Filesystem.KeyFile}
	case cfg.DynamicConfigProvided():
		log.V(logf.InfoLevel).Info("using dynamic certificate generating using CA stored in Secret resource", "secret_namespace", cfg.Dynamic.SecretNamespace, "secret_name", cfg.Dynamic.SecretName)
		return &tls.DynamicSource{
			DNSNames: cfg.Dynamic.DNSNames,
			Authority: &authority.DynamicAuthority{
				SecretNamespace: cfg.Dynamic.SecretNamespace,
				SecretName:      cfg.Dynamic.SecretName,
				SecretLabels:    map[string]string{"app.kubernetes.io/managed-by": managedBy},
				LeafDuration:    cfg.Dynamic.LeafDuration,
				RESTConfig:      restConfig,
			},
		}
	}
	return nil
}

// IgnoreCanceled turns the error of a component stopped by its context into nil.
func IgnoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// MustHide hides an internal flag from --help, as upstream does.
func MustHide(fs *pflag.FlagSet, name string) {
	if err := fs.MarkHidden(name); err != nil {
		panic(err)
	}
}

// Args returns the process arguments the command parses.
func Args() []string { return os.Args[1:] }

// AddMetricsTLSFlags registers the --metrics-* TLS flags the controller and
// cainjector share (the webhook's come with its options package).
func AddMetricsTLSFlags(fs *pflag.FlagSet, t *shared.TLSConfig) {
	fs.StringVar(&t.Filesystem.CertFile, "metrics-tls-cert-file", t.Filesystem.CertFile, "path to the file containing the TLS certificate to serve metrics with")
	fs.StringVar(&t.Filesystem.KeyFile, "metrics-tls-private-key-file", t.Filesystem.KeyFile, "path to the file containing the TLS private key to serve metrics with")
	fs.DurationVar(&t.Dynamic.LeafDuration, "metrics-dynamic-serving-leaf-duration", t.Dynamic.LeafDuration, "leaf duration of metrics serving certificates")
	fs.StringVar(&t.Dynamic.SecretNamespace, "metrics-dynamic-serving-ca-secret-namespace", t.Dynamic.SecretNamespace, "namespace of the secret used to store the CA that signs metrics serving certificates")
	fs.StringVar(&t.Dynamic.SecretName, "metrics-dynamic-serving-ca-secret-name", t.Dynamic.SecretName, "name of the secret used to store the CA that signs metrics serving certificates")
	fs.StringSliceVar(&t.Dynamic.DNSNames, "metrics-dynamic-serving-dns-names", t.Dynamic.DNSNames, "DNS names that should be present on certificates generated by the metrics dynamic serving CA")
	fs.StringSliceVar(&t.CipherSuites, "metrics-tls-cipher-suites", t.CipherSuites, "Comma-separated cipher suites for the metrics server; Go's defaults when omitted. Possible values: "+
		strings.Join(cliflag.TLSCipherPossibleValues(), ","))
	fs.StringVar(&t.MinTLSVersion, "metrics-tls-min-version", t.MinTLSVersion, "Minimum TLS version of the metrics server; Go's default when omitted. Possible values: "+
		strings.Join(cliflag.TLSPossibleVersions(), ", "))
}

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	cliflag "k8s.io/component-base/cli/flag"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	config "github.com/cert-manager/cert-manager/internal/apis/config/cainjector"
	"github.com/cert-manager/cert-manager/internal/kube"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/cert-manager/cert-manager/pkg/util/profiling"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

// run starts a controller-runtime manager holding the
// cert-manager-cainjector-leader-election Lease, with one reconciler per
// enabled injectable kind, until ctx ends; the manager then stops its
// runnables and releases the lease.
func run(ctx context.Context, cfg *config.CAInjectorConfiguration) error {
	log := logf.FromContext(ctx)
	log.Info("starting cert-manager cainjector", "version", cli.VersionString(component))

	restConfig, err := kube.BuildClientConfig("", cfg.KubeConfig)
	if err != nil {
		return fmt.Errorf("error creating rest config: %w", err)
	}
	restConfig = util.RestConfigWithUserAgent(restConfig, component)

	var namespaces map[string]cache.Config
	if cfg.Namespace != "" {
		namespaces = map[string]cache.Config{cfg.Namespace: {}}
	}

	certSource := cli.CertificateSource(log, cfg.MetricsTLSConfig, restConfig, "cert-manager-cainjector")
	metrics := metricsserver.Options{BindAddress: cfg.MetricsListenAddress}
	if certSource != nil {
		suites, err := cliflag.TLSCipherSuites(cfg.MetricsTLSConfig.CipherSuites)
		if err != nil {
			return err
		}
		minVersion, err := cliflag.TLSVersion(cfg.MetricsTLSConfig.MinTLSVersion)
		if err != nil {
			return err
		}
		metrics.SecureServing = true
		metrics.TLSOpts = []func(*tls.Config){func(c *tls.Config) {
			c.CipherSuites = suites
			c.MinVersion = minVersion
			c.GetCertificate = certSource.GetCertificate
		}}
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))

	le := cfg.LeaderElectionConfig
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme: scheme,
		Cache:  cache.Options{ReaderFailOnMissingInformer: true, DefaultNamespaces: namespaces},
		// Secrets are read straight from the API server: caching every
		// Secret in the cluster would cost memory and a heavy initial list.
		Client:                        client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LeaderElection:                le.Enabled,
		LeaderElectionNamespace:       le.Namespace,
		LeaderElectionID:              "cert-manager-cainjector-leader-election",
		LeaderElectionReleaseOnCancel: true,
		LeaderElectionLabels:          map[string]string{"app.kubernetes.io/managed-by": "cert-manager-cainjector"},
		LeaderElectionResourceLock:    resourcelock.LeasesResourceLock,
		LeaseDuration:                 &le.LeaseDuration,
		RenewDeadline:                 &le.RenewDeadline,
		RetryPeriod:                   &le.RetryPeriod,
		Metrics:                       metrics,
	})
	if err != nil {
		return fmt.Errorf("error creating manager: %w", err)
	}
	if certSource != nil {
		if err := mgr.Add(certSource); err != nil {
			return err
		}
	}
	if cfg.EnablePprof {
		if err := addProfiler(ctx, mgr, cfg.PprofAddress); err != nil {
			return err
		}
	}

	if cfg.EnableDataSourceConfig.Certificates {
		if err := waitForCertificateCRD(ctx, mgr); err != nil {
			return err
		}
	}

	inj := cfg.EnableInjectableConfig
	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    cfg.Namespace,
		IgnoreNamespaces:             cfg.IgnoreNamespaces,
		EnableCertificatesDataSource: cfg.EnableDataSourceConfig.Certificates,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   inj.MutatingWebhookConfigurations,
			cainjector.ValidatingWebhookConfigurationName: inj.ValidatingWebhookConfigurations,
			cainjector.APIServiceName:                     inj.APIServices,
			cainjector.CustomResourceDefinitionName:       inj.CustomResourceDefinitions,
		},
	}); err != nil {
		return fmt.Errorf("failed to register controllers: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("error running manager: %w", err)
	}
	return nil
}

// waitForCertificateCRD polls (up to 5 minutes) until the Certificate CRD the
// certificates data source watches exists, as upstream does on start.
func waitForCertificateCRD(ctx context.Context, mgr ctrl.Manager) error {
	log := logf.FromContext(ctx)
	direct, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return fmt.Errorf("failed to create client: %w", err)
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		err := direct.Get(ctx, types.NamespacedName{Name: "certificates.cert-manager.io"}, &apiext.CustomResourceDefinition{})
		switch {
		case apierrors.IsNotFound(err):
			log.Info("cainjector has been configured to watch certificates, but certificates.cert-manager.io CRD not found, retrying with a backoff...")
			return false, nil
		case err != nil:
			return false, fmt.Errorf("checking for the certificates.cert-manager.io CRD: %w", err)
		}
		return true, nil
	})
}

// addProfiler serves pprof on every replica, leader or not.
func addProfiler(ctx context.Context, mgr ctrl.Manager, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	profiling.Install(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 32 * time.Second}
	logf.FromContext(ctx).V(logf.InfoLevel).Info("running go profiler on", "address", addr)
	return mgr.Add(everyReplica(func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is already done
		}()
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			return err
		}
		return nil
	}))
}

// everyReplica is a manager runnable that runs without holding the lease.
type everyReplica func(context.Context) error

func (r everyReplica) Start(ctx context.Context) error { return r(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

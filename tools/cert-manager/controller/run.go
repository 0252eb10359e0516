package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	config "github.com/cert-manager/cert-manager/internal/apis/config/controller"
	defaults "github.com/cert-manager/cert-manager/internal/apis/config/controller/v1alpha1"
	"github.com/cert-manager/cert-manager/internal/controller/feature"
	"github.com/cert-manager/cert-manager/pkg/controller"
	shimgateways "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	shimlistenerset "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/listenerset"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/server"
	utilfeature "github.com/cert-manager/cert-manager/pkg/util/feature"
	"github.com/cert-manager/cert-manager/pkg/util/profiling"

	"github.com/cert-manager/cert-manager/platformshim/internal/cli"
)

// Bounds how long a slow client may take to send its headers (slowloris).
const readHeaderTimeout = 32 * time.Second

// run serves metrics, /livez and the optional profiler at once, and starts
// the enabled controllers once this replica leads (or at once without leader
// election). Cancelling ctx, or losing the lease, stops everything; servers
// get 5 seconds to drain.
func run(ctx context.Context, cfg *config.ControllerConfiguration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := logf.FromContext(ctx)
	log.Info("starting cert-manager controller", "version", cli.VersionString(component))
	// Everything below, the controllers' root context included, stops when
	// any server, the leader election or a controller fails.
	g, ctx := errgroup.WithContext(ctx)

	factory, err := newContextFactory(ctx, cfg)
	if err != nil {
		return err
	}
	cctx, err := factory.Build()
	if err != nil {
		return err
	}
	enabled := enabledControllers(cfg)
	log.Info(fmt.Sprintf("enabled controllers: %s", sets.List(enabled)))

	certSource := cli.CertificateSource(log, cfg.MetricsTLSConfig, cctx.RESTConfig, "cert-manager")
	if certSource != nil {
		g.Go(func() error { return cli.IgnoreCanceled(certSource.Start(ctx)) })
	} else {
		log.V(logf.InfoLevel).Info("serving metrics without TLS: no metrics TLS configuration given")
	}
	metricsLn, err := server.Listen(ctx, "tcp", cfg.MetricsListenAddress,
		server.WithCertificateSource(certSource),
		server.WithTLSCipherSuites(cfg.MetricsTLSConfig.CipherSuites),
		server.WithTLSMinVersion(cfg.MetricsTLSConfig.MinTLSVersion),
	)
	if err != nil {
		return fmt.Errorf("failed to listen on prometheus address %s: %w", cfg.MetricsListenAddress, err)
	}
	serve(ctx, g, "metrics", cctx.Metrics.NewServer(metricsLn), metricsLn)

	if cfg.EnablePprof {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.PprofAddress)
		if err != nil {
			return fmt.Errorf("failed to listen on profiler address %s: %w", cfg.PprofAddress, err)
		}
		mux := http.NewServeMux()
		profiling.Install(mux)
		serve(ctx, g, "profiler", &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}, ln)
	}

	healthzLn, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.HealthzListenAddress)
	if err != nil {
		return fmt.Errorf("failed to listen on healthz address %s: %w", cfg.HealthzListenAddress, err)
	}
	healthzServer := healthz.NewServer(cfg.LeaderElectionConfig.HealthzTimeout)
	g.Go(func() error {
		log.V(logf.InfoLevel).Info("starting healthz server", "address", healthzLn.Addr())
		return healthzServer.Start(ctx, healthzLn)
	})

	elected := make(chan struct{})
	if cfg.LeaderElectionConfig.Enabled {
		g.Go(func() error {
			le, err := factory.Build("leader-election")
			if err != nil {
				return err
			}
			return runLeaderElection(ctx, cfg, le.Client, le.Recorder, elected, healthzServer.LeaderHealthzAdaptor)
		})
	} else {
		close(elected)
	}

	select {
	case <-ctx.Done():
		return g.Wait()
	case <-elected:
	}

	for name, construct := range controller.Known() {
		log := log.WithValues("controller", name)
		if !enabled.Has(name) {
			log.V(logf.InfoLevel).Info("skipping disabled controller")
			continue
		}
		c, err := construct(factory)
		if err != nil {
			cancel()
			return errors.Join(fmt.Errorf("error starting controller %s: %w", name, err), g.Wait())
		}
		g.Go(func() error {
			log.V(logf.InfoLevel).Info("starting controller")
			return c.Run(cfg.NumberOfConcurrentWorkers, ctx)
		})
	}

	log.V(logf.DebugLevel).Info("starting shared informer factories")
	cctx.SharedInformerFactory.Start(ctx.Done())
	cctx.KubeSharedInformerFactory.Start(ctx.Done())
	cctx.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	gateway := utilfeature.DefaultFeatureGate.Enabled(feature.ExperimentalGatewayAPISupport) && cfg.GatewayAPIConfig.Enabled
	if gateway {
		cctx.GWShared.Start(ctx.Done())
	}

	if err := g.Wait(); err != nil {
		return fmt.Errorf("error running controllers: %w", err)
	}
	log.V(logf.InfoLevel).Info("control loops exited")
	if gateway {
		cctx.GWShared.Shutdown()
	}
	cctx.HTTP01ResourceMetadataInformersFactory.Shutdown()
	cctx.KubeSharedInformerFactory.Shutdown()
	cctx.SharedInformerFactory.Shutdown()
	return nil
}

// serve runs srv on ln in g and shuts it down (5 s grace) when ctx ends.
func serve(ctx context.Context, g *errgroup.Group, name string, srv *http.Server, ln net.Listener) {
	log := logf.FromContext(ctx)
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is already done
	})
	g.Go(func() error {
		log.V(logf.InfoLevel).Info("starting "+name+" server", "address", ln.Addr())
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
}

// newContextFactory turns the configuration into the options every
// controller is built from.
func newContextFactory(ctx context.Context, cfg *config.ControllerConfiguration) (*controller.ContextFactory, error) {
	h := cfg.ACMEHTTP01Config
	quantities := map[string]*resource.Quantity{}
	for flag, value := range map[string]string{
		"acme-http01-solver-resource-request-cpu":    h.SolverResourceRequestCPU,
		"acme-http01-solver-resource-request-memory": h.SolverResourceRequestMemory,
		"acme-http01-solver-resource-limits-cpu":     h.SolverResourceLimitsCPU,
		"acme-http01-solver-resource-limits-memory":  h.SolverResourceLimitsMemory,
	} {
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a quantity: %w", flag, value, err)
		}
		quantities[flag] = &q
	}

	nameservers := cfg.ACMEDNS01Config.RecursiveNameservers
	if len(nameservers) == 0 {
		nameservers = dnsutil.RecursiveNameservers
	}
	logf.FromContext(ctx).V(logf.InfoLevel).WithName("build-context").WithValues("nameservers", nameservers).Info("configured acme dns01 nameservers")

	return controller.NewContextFactory(ctx, controller.ContextOptions{
		APIServerHost:      cfg.APIServerHost,
		Kubeconfig:         cfg.KubeConfig,
		KubernetesAPIQPS:   cfg.KubernetesAPIQPS,
		KubernetesAPIBurst: cfg.KubernetesAPIBurst,
		Namespace:          cfg.Namespace,
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace:        cfg.ClusterResourceNamespace,
			ClusterIssuerAmbientCredentials: cfg.ClusterIssuerAmbientCredentials,
			IssuerAmbientCredentials:        cfg.IssuerAmbientCredentials,
		},
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverImage:                 h.SolverImage,
			HTTP01SolverResourceRequestCPU:    *quantities["acme-http01-solver-resource-request-cpu"],
			HTTP01SolverResourceRequestMemory: *quantities["acme-http01-solver-resource-request-memory"],
			HTTP01SolverResourceLimitsCPU:     *quantities["acme-http01-solver-resource-limits-cpu"],
			HTTP01SolverResourceLimitsMemory:  *quantities["acme-http01-solver-resource-limits-memory"],
			ACMEHTTP01SolverRunAsNonRoot:      h.SolverRunAsNonRoot,
			HTTP01SolverRuntimeClassName:      h.SolverRuntimeClassName,
			HTTP01SolverNameservers:           h.SolverNameservers,
			HTTP01SolverExtraLabels:           h.SolverExtraLabels,
			DNS01CheckAuthoritative:           !cfg.ACMEDNS01Config.RecursiveNameserversOnly,
			DNS01Nameservers:                  nameservers,
			DNS01CheckRetryPeriod:             cfg.ACMEDNS01Config.CheckRetryPeriod,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerName:                 cfg.IngressShimConfig.DefaultIssuerName,
			DefaultIssuerKind:                 cfg.IngressShimConfig.DefaultIssuerKind,
			DefaultIssuerGroup:                cfg.IngressShimConfig.DefaultIssuerGroup,
			DefaultAutoCertificateAnnotations: cfg.IngressShimConfig.DefaultAutoCertificateAnnotations,
			ExtraCertificateAnnotations:       cfg.IngressShimConfig.ExtraCertificateAnnotations,
			GatewayAPIExtraProtocols:          sets.New(cfg.GatewayAPIConfig.ExtraProtocols...),
		},
		CertificateOptions: controller.CertificateOptions{
			EnableOwnerRef:                           cfg.EnableCertificateOwnerRef,
			CopiedAnnotationPrefixes:                 cfg.CopiedAnnotationPrefixes,
			CertificateRequestMinimumBackoffDuration: cfg.CertificateRequestMinimumBackoffDuration,
			CertificateRequestMaximumBackoffDuration: cfg.CertificateRequestMaximumBackoffDuration,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: cfg.MaxConcurrentChallenges},
		ConfigOptions: controller.ConfigOptions{
			EnableGatewayAPI:            cfg.GatewayAPIConfig.Enabled,
			EnableGatewayAPIListenerSet: cfg.GatewayAPIConfig.EnableListenerSet,
		},
	})
}

// enabledControllers resolves --controllers ("*", "name", "-name") against
// the default set, adds what feature gates and the Gateway API settings turn
// on, drops cluster-scoped controllers when scoped to one namespace, and
// removes the explicitly disabled ones last.
func enabledControllers(cfg *config.ControllerConfiguration) sets.Set[string] {
	enabled := sets.New[string]()
	var disabled []string
	for _, c := range cfg.Controllers {
		switch {
		case c == "*":
			enabled.Insert(defaults.DefaultEnabledControllers...)
		case strings.HasPrefix(c, "-"):
			disabled = append(disabled, strings.TrimPrefix(c, "-"))
		default:
			enabled.Insert(c)
		}
	}
	if len(disabled) > 0 && enabled.Len() == 0 {
		enabled.Insert(defaults.DefaultEnabledControllers...)
	}
	gates := utilfeature.DefaultFeatureGate
	if gates.Enabled(feature.ExperimentalCertificateSigningRequestControllers) {
		enabled.Insert(defaults.ExperimentalCertificateSigningRequestControllers...)
	}
	if gates.Enabled(feature.ExperimentalGatewayAPISupport) && cfg.GatewayAPIConfig.Enabled {
		enabled.Insert(shimgateways.ControllerName)
		if gates.Enabled(feature.ListenerSets) && cfg.GatewayAPIConfig.EnableListenerSet {
			enabled.Insert(shimlistenerset.ControllerName)
		}
	}
	if cfg.Namespace != "" {
		enabled.Delete(defaults.ClusterScopedControllers...)
	}
	return enabled.Delete(disabled...)
}

// runLeaderElection holds the controller's Lease (cert-manager-controller in
// the leader election namespace), closes elected when it leads, and returns
// an error when it loses the lease while ctx is still live. The lease is
// released on shutdown so a successor takes over at once.
func runLeaderElection(ctx context.Context, cfg *config.ControllerConfiguration, client kubernetes.Interface, recorder record.EventRecorder, elected chan struct{}, watchdog *leaderelection.HealthzAdaptor) error {
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("error getting hostname: %w", err)
	}
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, cfg.LeaderElectionConfig.Namespace, "cert-manager-controller",
		client.CoreV1(), client.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: host + "-external-cert-manager-controller", EventRecorder: recorder})
	if err != nil {
		return fmt.Errorf("error creating leader election lock: %w", err)
	}
	lost := make(chan error, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   cfg.LeaderElectionConfig.LeaseDuration,
		RenewDeadline:   cfg.LeaderElectionConfig.RenewDeadline,
		RetryPeriod:     cfg.LeaderElectionConfig.RetryPeriod,
		ReleaseOnCancel: true,
		WatchDog:        watchdog,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(elected) },
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					lost <- errors.New("leader election lost")
				}
			},
		},
	})
	if err != nil {
		return err
	}
	logf.FromContext(ctx).V(logf.InfoLevel).Info("starting leader election")
	le.Run(ctx)
	select {
	case err := <-lost:
		return err
	default:
		return nil
	}
}

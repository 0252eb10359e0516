/**
 * What the local stack adds when it runs on a real node (ENGINE_NODES=real), as config over
 * Pulumi.local.yaml: the IngressGateway, from the charts its releases ship, laid out from their
 * modules by `scripts/engine/toolchain.sh gateway` (the same charts, values and controllers as
 * staging and production).
 *
 * Not in Pulumi.local.yaml itself because the default local cluster's nodes are kwok's: nothing runs
 * there, so cert-manager's admission webhook could never answer the API server, and the first
 * ClusterIssuer would be refused. The real-node e2e and the real node's image plan
 * (scripts/engine/local-images.ts) both read it from here.
 */
import { CHART_VERSIONS } from "../../config/settings";

/** Where `toolchain.sh gateway` links each chart, relative to the project. */
export const GATEWAY_CHART_PATHS = {
  envoyGateway: `.cache/charts/gateway-helm-${CHART_VERSIONS.envoyGateway}`,
  certManager: `.cache/charts/cert-manager-${CHART_VERSIONS.certManager}`,
} as const;

export const REAL_NODE_CONFIG: Record<string, unknown> = {
  "platform:ingress": {
    // The embedded cluster has no load balancer provider: a LoadBalancer Service would never get
    // an address, and the Gateway waits for one.
    loadBalancer: "clusterIP",
    charts: {
      envoyGateway: { path: GATEWAY_CHART_PATHS.envoyGateway },
      certManager: { path: GATEWAY_CHART_PATHS.certManager },
    },
  },
};

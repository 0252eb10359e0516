/**
 * What the local stack adds on a real node (scripts/engine/real-node-config.ts): the IngressGateway
 * from the charts `toolchain.sh gateway-charts` lays out, exposed on a cluster IP, and the images the
 * real node must hold for it (scripts/engine/local-images.ts, which images.sh builds from).
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CHART_VERSIONS } from "../config/settings";
import { localImages, type LocalImage } from "../scripts/engine/local-images";
import { GATEWAY_CHART_PATHS, REAL_NODE_CONFIG } from "../scripts/engine/real-node-config";
import { byType, REPO_ROOT, runStack, stackSettings, type RunResult } from "./harness";

let run: RunResult;
let images: LocalImage[];

beforeAll(async () => {
  run = await runStack("local", { config: REAL_NODE_CONFIG });
  images = await localImages("local", REAL_NODE_CONFIG);
}, 300_000);

describe("the local stack on a real node", () => {
  it("installs the gateway's charts from the directories the toolchain lays out, at the pinned versions", () => {
    const releases = byType(run, "kubernetes:helm.sh/v3:Release").map(
      (r) => r.inputs as { chart: string; version: string },
    );
    expect(releases).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          chart: GATEWAY_CHART_PATHS.envoyGateway,
          version: CHART_VERSIONS.envoyGateway,
        }),
        expect.objectContaining({
          chart: GATEWAY_CHART_PATHS.certManager,
          version: CHART_VERSIONS.certManager,
        }),
      ]),
    );
    for (const chart of Object.values(GATEWAY_CHART_PATHS)) {
      const chartYaml = readFileSync(path.join(REPO_ROOT, chart, "Chart.yaml"), "utf8");
      // The laid-out chart states the release's version, as a published chart would.
      expect(chartYaml).toMatch(new RegExp(`^version: ${chart.replace(/^.*-(v[0-9.]+)$/, "$1")}$`, "m"));
    }
    // Envoy Gateway's release renders its values template; nothing is left unrendered.
    const values = readFileSync(
      path.join(REPO_ROOT, GATEWAY_CHART_PATHS.envoyGateway, "values.yaml"),
      "utf8",
    );
    expect(values).toContain(`image: docker.io/envoyproxy/gateway:${CHART_VERSIONS.envoyGateway}`);
    expect(values).not.toContain("${");
    expect(existsSync(path.join(REPO_ROOT, GATEWAY_CHART_PATHS.envoyGateway, "values.tmpl.yaml"))).toBe(
      false,
    );
  });

  it("exposes the proxies on a cluster IP (the embedded cluster has no load balancer provider)", () => {
    expect(stackSettings("local", REAL_NODE_CONFIG).ingress.loadBalancer).toBe("clusterIP");
    expect(stackSettings("local").ingress.loadBalancer).toBe("default");
    expect(stackSettings("production").ingress.loadBalancer).toBe("nlb");
    const proxy = byType(run, "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy")[0];
    expect(proxy?.inputs).toMatchObject({
      spec: { provider: { kubernetes: { envoyService: { type: "ClusterIP" } } } },
    });
  });

  it("the node's images include every image the two charts run, each built from its module", () => {
    const built = new Map(images.map((i) => [i.ref, i.binary]));
    expect(built.get(`docker.io/envoyproxy/gateway:${CHART_VERSIONS.envoyGateway}`)).toBe("envoy-gateway");
    for (const component of ["controller", "webhook", "cainjector", "acmesolver", "startupapicheck"])
      expect(built.get(`quay.io/jetstack/cert-manager-${component}:${CHART_VERSIONS.certManager}`)).toBe(
        `cert-manager-${component}`,
      );
    // images.sh knows where each binary is and where it goes in its image.
    const script = readFileSync(path.join(REPO_ROOT, "scripts", "engine", "images.sh"), "utf8");
    for (const binary of new Set(images.flatMap((i) => (i.binary ? [i.binary] : []))))
      expect(
        script.includes(`[${binary}]=`) ||
          (binary.startsWith("cert-manager-") && script.includes("[cert-manager-$component]=")),
        `images.sh has no BINARY_PATH for ${binary}`,
      ).toBe(true);
  });

  it("without the real node's config, the local stack has no gateway and the plan no chart images", async () => {
    const base = await runStack("local");
    expect(byType(base, "platform:index:IngressGateway")).toHaveLength(0);
    const baseImages = await localImages("local");
    expect(
      baseImages.filter((i) => i.binary === "envoy-gateway" || i.binary?.startsWith("cert-manager-")),
    ).toEqual([]);
  });
});

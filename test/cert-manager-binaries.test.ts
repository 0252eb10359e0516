/**
 * cert-manager's binaries, built by `scripts/engine/toolchain.sh cert-manager` from our mains in
 * tools/cert-manager over the github.com/cert-manager/cert-manager module, take every flag the
 * module's own Helm chart passes them: each Deployment template's args, and the args the
 * controller gives the acmesolver pods it creates. A flag the chart passes and a binary lacks would
 * crash-loop that pod on the real node.
 *
 * The flags are read from the chart and the controller source in the module the binaries were
 * built from (the Go module cache), and from each binary's --help; then each binary is started
 * with one of every chart flag and a kubeconfig that does not exist, and must get past flag
 * parsing and configuration validation to the point where it reads the kubeconfig.
 *
 * The binaries are a cache, not a source file: without them (a clean clone that has not run the
 * toolchain) the binary checks are skipped with the command that builds them, unless
 * ENGINE_REQUIRE_CERT_MANAGER=1, which CI sets once the toolchain has run, turns that into a
 * failure.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "./harness";

const VERSION = /^CERT_MANAGER_VERSION=(\S+)$/m.exec(
  readFileSync(path.join(REPO_ROOT, "scripts", "engine", "versions.env"), "utf8"),
)?.[1] as string;

const CACHE =
  process.env.PLATFORM_TOOLCHAIN_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "platform-toolchain");
const BIN_DIR = path.join(CACHE, `cert-manager-${VERSION}`, "bin");

function goModCache(): string | undefined {
  const go = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" });
  return go.status === 0 ? go.stdout.trim() : undefined;
}
const MODULE_CACHE = goModCache();
const MODULE_DIR = MODULE_CACHE
  ? path.join(MODULE_CACHE, "github.com", "cert-manager", `cert-manager@${VERSION}`)
  : "";
/** A file of the cert-manager module the binaries were built from. */
const moduleFile = (rel: string) => readFileSync(path.join(MODULE_DIR, rel), "utf8");

/** What each binary is given by the chart: a Deployment template, or the controller's pod spec. */
const SOURCES = {
  controller: "deploy/charts/cert-manager/templates/deployment.yaml",
  webhook: "deploy/charts/cert-manager/templates/webhook-deployment.yaml",
  cainjector: "deploy/charts/cert-manager/templates/cainjector-deployment.yaml",
  acmesolver: "pkg/issuer/acme/http/pod.go",
} as const;
type Component = keyof typeof SOURCES;
const COMPONENTS = Object.keys(SOURCES) as Component[];

/** `- --flag=...` lines of a template; `"--flag=%...` format strings of the controller's pod.go. */
function chartFlags(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/^\s*- --([a-z0-9-]+)=/gm)) found.add(m[1] as string);
  for (const m of text.matchAll(/"--([a-z0-9-]+)=%/g)) found.add(m[1] as string);
  return [...found].sort();
}

/** Long flag names listed by a cobra/pflag --help (`  -v, --v Level`, `      --config string`). */
function helpFlags(help: string): Set<string> {
  return new Set([...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1] as string));
}

/**
 * A value for each flag the chart passes, in the form the chart renders it. A flag missing here is
 * a flag the chart started passing: the test names it so that it gets a value (and a look).
 */
const SAMPLE: Record<string, string> = {
  v: "2",
  "cluster-resource-namespace": "cert-manager",
  "leader-election-namespace": "kube-system",
  "leader-election-lease-duration": "60s",
  "leader-election-renew-deadline": "40s",
  "leader-election-retry-period": "15s",
  "acme-http01-solver-image": `quay.io/jetstack/cert-manager-acmesolver:${VERSION}`,
  "default-issuer-name": "local-ca",
  "default-issuer-kind": "ClusterIssuer",
  "default-issuer-group": "cert-manager.io",
  "feature-gates": "AllAlpha=false",
  "acme-http01-solver-extra-labels": "app.kubernetes.io/part-of=platform",
  "max-concurrent-challenges": "60",
  "enable-certificate-owner-ref": "true",
  "dns01-recursive-nameservers-only": "true",
  "dns01-recursive-nameservers": "10.96.0.10:53",
  controllers: "-certificaterequests-approver",
  "acme-http01-solver-runtime-class-name": "runc",
  "secure-port": "10250",
  "enable-client-verification": "true",
  "client-ca-path": "/etc/kubernetes/client-ca.crt",
  "client-subject-names": "kube-apiserver",
  "dynamic-serving-ca-secret-namespace": "cert-manager",
  "dynamic-serving-ca-secret-name": "cert-manager-webhook-ca",
  "dynamic-serving-dns-names": "cert-manager-webhook.cert-manager.svc",
  "metrics-listen-address": "0",
  "listen-port": "8089",
  domain: "gateway.platform.local",
  token: "token",
  key: "token.key",
};

/** The configuration file kind the chart mounts for --config (its *-config.yaml templates). */
const CONFIG_KIND: Partial<Record<Component, string>> = {
  controller: "apiVersion: controller.config.cert-manager.io/v1alpha1\nkind: ControllerConfiguration\n",
  webhook: "apiVersion: webhook.config.cert-manager.io/v1alpha1\nkind: WebhookConfiguration\n",
  cainjector: "apiVersion: cainjector.config.cert-manager.io/v1alpha1\nkind: CAInjectorConfiguration\n",
};

const haveModule = MODULE_DIR !== "" && existsSync(path.join(MODULE_DIR, SOURCES.controller));
const haveBinaries = [...COMPONENTS, "startupapicheck"].every((c) =>
  existsSync(path.join(BIN_DIR, `cert-manager-${c}`)),
);
const required = process.env.ENGINE_REQUIRE_CERT_MANAGER === "1";
const why = `cert-manager ${VERSION} binaries are not in ${BIN_DIR} (or its module is not in the Go module cache): run \`bash scripts/engine/toolchain.sh cert-manager\``;
if (!(haveModule && haveBinaries) && !required) console.warn(`skipping: ${why}`);

function run(component: Component, args: string[]) {
  return spawnSync(path.join(BIN_DIR, `cert-manager-${component}`), args, {
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("cert-manager's binaries take the flags its chart passes", () => {
  it("the toolchain builds them (or CI does not require them)", () => {
    if (required) expect(haveModule && haveBinaries, why).toBe(true);
  });

  it("the chart passes flags to every component (the parsing still finds them)", () => {
    if (!haveModule) return;
    for (const c of COMPONENTS) {
      const flags = chartFlags(moduleFile(SOURCES[c]));
      expect(flags.length, `${c}: no flags found in ${SOURCES[c]}`).toBeGreaterThan(2);
    }
  });

  describe.skipIf(!(haveModule && haveBinaries))("each built binary", () => {
    for (const c of COMPONENTS) {
      const chart = () => chartFlags(moduleFile(SOURCES[c]));

      it(`cert-manager-${c} reports ${VERSION}`, () => {
        const out = run(c, ["--version"]);
        expect(out.status, out.stderr).toBe(0);
        expect(out.stdout).toMatch(new RegExp(`^cert-manager ${c} ${VERSION.replace(/\./g, "\\.")} `));
      });

      it(`cert-manager-${c} --help lists every flag ${SOURCES[c]} passes`, () => {
        const out = run(c, ["--help"]);
        expect(out.status, out.stderr).toBe(0);
        const listed = helpFlags(out.stdout);
        expect(chart().filter((f) => !listed.has(f))).toEqual([]);
      });

      if (c !== "acmesolver") {
        it(`cert-manager-${c} accepts all of them and its --config kind, and stops only at the kubeconfig`, () => {
          const dir = mkdtempSync(path.join(os.tmpdir(), `cm-${c}-`));
          const config = path.join(dir, "config.yaml");
          writeFileSync(config, CONFIG_KIND[c] as string);
          const kubeconfig = path.join(dir, "no-such-kubeconfig");
          const flags = chart();
          const unknown = flags.filter((f) => f !== "config" && !(f in SAMPLE));
          expect(unknown, "chart flags without a sample value in this test").toEqual([]);
          const args = flags.map((f) => `--${f}=${f === "config" ? config : SAMPLE[f]}`);
          const out = run(c, [...args, `--kubeconfig=${kubeconfig}`]);
          const output = out.stdout + out.stderr;
          expect(output).not.toMatch(
            /unknown flag|invalid argument|error validating|failed to load config file/,
          );
          expect(out.status).not.toBe(0);
          expect(output).toContain(kubeconfig);
        });
      }
    }

    it("cert-manager-startupapicheck takes the Job's `check api --wait` and the chart's extra `-v`, and stops only at the in-cluster config", () => {
      const job = moduleFile("deploy/charts/cert-manager/templates/startupapicheck-job.yaml");
      const values = moduleFile("deploy/charts/cert-manager/values.yaml");
      // The Job's args as the chart renders them: its fixed ones, then the values' extraArgs.
      const args = [...job.matchAll(/^\s*- (check|api|--wait)=?(\{\{[^}]*\}\})?$/gm)].map((m) =>
        m[1] === "--wait" ? "--wait=1m" : (m[1] as string),
      );
      const extraArgs =
        /^startupapicheck:[\s\S]*?^ {2}extraArgs:\n((?: {2}- .*\n)+)/m.exec(values)?.[1] ?? "";
      const extra = [...extraArgs.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1] as string);
      expect(args).toEqual(["check", "api", "--wait=1m"]);
      expect(extra).toEqual(["-v"]);
      const out = spawnSync(path.join(BIN_DIR, "cert-manager-startupapicheck"), [...args, ...extra], {
        encoding: "utf8",
        timeout: 30_000,
        env: { ...process.env, KUBERNETES_SERVICE_HOST: "", KUBERNETES_SERVICE_PORT: "" },
      });
      const output = out.stdout + out.stderr;
      expect(output).not.toMatch(/unknown (flag|shorthand|command)|invalid argument/);
      expect(out.status).not.toBe(0);
      expect(output).toContain("in-cluster configuration");
    });
  });
});

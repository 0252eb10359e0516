/**
 * Resolves an image tag to its digest through the OCI distribution API (the same calls `docker pull`
 * and containerd make): `HEAD /v2/<repository>/manifests/<tag>` with every manifest media type in
 * Accept, `GET` when the registry sends no `Docker-Content-Digest`, and the platform list from the
 * index (OCI image index or Docker manifest list).
 *
 * Authentication: a 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` is answered by the
 * anonymous token flow (ghcr.io, Docker Hub, quay.io, registry.k8s.io); `docker.io` is asked at
 * `registry-1.docker.io` with the `library/` prefix for official images. ECR
 * (`<account>.dkr.ecr.<region>.amazonaws.com`) uses the AWS SDK's credentials through
 * GetAuthorizationToken, loaded only when an ECR image is resolved (`@aws-sdk/client-ecr`).
 * A mirror (`--registry-mirror registry=host[:port]`, `*` for every registry) sends the calls
 * elsewhere under the same repository path: the tests point every registry at a local one.
 */
import { parseImageReference } from "../../policy/rules";

export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

const INDEX_TYPES: readonly string[] = MANIFEST_MEDIA_TYPES.slice(0, 2);

export interface Resolved {
  /** `registry/repository` as asked (before any mirror). */
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  platforms: string[];
}

export interface RegistryOptions {
  /** Registry host → host[:port] to ask instead; `*` matches every registry. */
  mirrors?: Record<string, string>;
  /** `http` for these hosts (a local registry); https otherwise. */
  insecureHosts?: readonly string[];
  fetch?: typeof fetch;
}

/** Thrown with a message that names the image and what the registry said. */
export class ImageResolveError extends Error {}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s+(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m[1] ?? "").toLowerCase(), params };
}

/** Where the API of `registry` answers, after mirrors (`docker.io` → `registry-1.docker.io`). */
export function apiHost(registry: string, mirrors: Record<string, string> = {}): string {
  const mirrored = mirrors[registry] ?? mirrors["*"];
  if (mirrored) return mirrored;
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

const ECR_HOST = /^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/** A Basic credential for ECR from the AWS SDK's default credential chain (loaded lazily). */
async function ecrAuthorization(host: string): Promise<string> {
  const region = ECR_HOST.exec(host)?.[1];
  const moduleName = "@aws-sdk/client-ecr";
  let ecr: {
    ECRClient: new (c: { region?: string }) => { send(c: unknown): Promise<unknown> };
    GetAuthorizationTokenCommand: new (i: object) => unknown;
  };
  try {
    ecr = (await import(moduleName)) as typeof ecr;
  } catch {
    throw new ImageResolveError(
      `${host}: resolving ECR images needs the AWS SDK's ECR client; install it with npm install --no-save @aws-sdk/client-ecr (credentials come from the usual AWS chain: AWS_PROFILE, environment, SSO)`,
    );
  }
  const client = new ecr.ECRClient(region ? { region } : {});
  const out = (await client.send(new ecr.GetAuthorizationTokenCommand({}))) as {
    authorizationData?: { authorizationToken?: string }[];
  };
  const token = out.authorizationData?.[0]?.authorizationToken;
  if (!token) throw new ImageResolveError(`${host}: ECR GetAuthorizationToken returned no token`);
  return `Basic ${token}`;
}

/** The most specific message of a fetch failure (undici puts the socket error in `cause`). */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : (error as Error).message;
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly fetch: typeof fetch;

  constructor(private readonly options: RegistryOptions = {}) {
    this.fetch = options.fetch ?? fetch;
  }

  private base(host: string): string {
    const insecure =
      this.options.insecureHosts?.includes(host) ?? /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host);
    return `${insecure ? "http" : "https"}://${host}`;
  }

  /** One request with the cached credential for `host/repository`, answering one auth challenge. */
  private async request(
    host: string,
    repository: string,
    method: "HEAD" | "GET",
    url: string,
  ): Promise<Response> {
    const key = `${host}/${repository}`;
    const headers: Record<string, string> = { Accept: MANIFEST_MEDIA_TYPES.join(", ") };
    const cached = this.tokens.get(key);
    if (cached) headers.Authorization = cached;
    let res = await this.fetch(url, { method, headers });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
    let authorization: string;
    if (ECR_HOST.test(host)) authorization = await ecrAuthorization(host);
    else if (challenge?.scheme === "bearer" && challenge.params.realm) {
      const realm = new URL(challenge.params.realm);
      // A token realm over plain http is accepted only from a registry asked over http (a local one).
      if (realm.protocol !== "https:" && !url.startsWith("http:"))
        throw new ImageResolveError(
          `${host}/${repository}: the registry's token realm ${realm.origin} is not https; refusing to fetch a token over plain http`,
        );
      if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
      realm.searchParams.set("scope", challenge.params.scope ?? `repository:${repository}:pull`);
      const tokenRes = await this.fetch(realm.toString(), { headers: { Accept: "application/json" } });
      if (!tokenRes.ok)
        throw new ImageResolveError(
          `${host}/${repository}: the token service ${realm.origin}${realm.pathname} refused an anonymous pull token (HTTP ${tokenRes.status})`,
        );
      const body = (await tokenRes.json()) as { token?: string; access_token?: string };
      const token = body.token ?? body.access_token;
      if (!token) throw new ImageResolveError(`${host}/${repository}: the token service returned no token`);
      authorization = `Bearer ${token}`;
    } else
      throw new ImageResolveError(
        `${host}/${repository}: the registry asks for credentials (${res.headers.get("www-authenticate") ?? "no challenge"}) and only anonymous bearer tokens and ECR are supported`,
      );
    this.tokens.set(key, authorization);
    res = await this.fetch(url, { method, headers: { ...headers, Authorization: authorization } });
    return res;
  }

  /** The digest, media type and platforms `image` (a tag reference) resolves to. */
  async resolve(image: string): Promise<Resolved> {
    const ref = parseImageReference(image);
    if (!ref.tag) throw new ImageResolveError(`${image}: no tag to resolve`);
    const host = apiHost(ref.registry, this.options.mirrors);
    const url = `${this.base(host)}/v2/${ref.repository}/manifests/${ref.tag}`;
    const where = `${image} (${host}/${ref.repository}:${ref.tag})`;
    let res: Response;
    try {
      res = await this.request(host, ref.repository, "HEAD", url);
    } catch (error) {
      if (error instanceof ImageResolveError) throw error;
      throw new ImageResolveError(`${where}: registry unreachable: ${causeOf(error)}`);
    }
    if (res.status === 404)
      throw new ImageResolveError(`${where}: not found in the registry (no such repository or tag)`);
    if (!res.ok)
      throw new ImageResolveError(
        `${where}: the registry answered HTTP ${res.status} to the manifest request`,
      );
    let digest = res.headers.get("docker-content-digest") ?? undefined;
    let mediaType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    // The platform list needs the body of an index; a registry without the digest header needs the body too.
    let body: {
      mediaType?: string;
      manifests?: { platform?: { os?: string; architecture?: string; variant?: string } }[];
    } = {};
    if (!digest || INDEX_TYPES.includes(mediaType) || mediaType === "") {
      const get = await this.request(host, ref.repository, "GET", url);
      if (!get.ok)
        throw new ImageResolveError(`${where}: the registry answered HTTP ${get.status} to the manifest GET`);
      const bytes = new Uint8Array(await get.arrayBuffer());
      const { createHash } = await import("node:crypto");
      const computed = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      const stated = get.headers.get("docker-content-digest") ?? digest;
      if (stated && stated !== computed)
        throw new ImageResolveError(
          `${where}: the registry says ${stated} but the manifest it served hashes to ${computed}`,
        );
      digest = computed;
      body = JSON.parse(new TextDecoder().decode(bytes)) as typeof body;
      mediaType = (get.headers.get("content-type") ?? body.mediaType ?? "").split(";")[0]!.trim();
    }
    if (!digest || !/^sha256:[a-f0-9]{64}$/.test(digest))
      throw new ImageResolveError(`${where}: the registry returned no sha256 digest (${digest ?? "none"})`);
    const platforms = INDEX_TYPES.includes(mediaType)
      ? [
          ...new Set(
            (body.manifests ?? [])
              .map((m) => m.platform)
              .filter((p) => p?.os && p.architecture && p.os !== "unknown")
              .map((p) => [p!.os, p!.architecture, p!.variant].filter(Boolean).join("/")),
          ),
        ].sort()
      : ["single manifest"];
    return {
      repository: `${ref.registry}/${ref.repository}`,
      tag: ref.tag,
      digest,
      mediaType,
      platforms,
    };
  }
}

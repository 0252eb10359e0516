/**
 * The one check of a container image reference, shared by the components (MicroService, the data
 * services' `image`), the stack config (`platform:images`) and the service catalogs. It imports
 * nothing, so the catalogs stay free of Pulumi.
 */

/**
 * Why a container image reference cannot be deployed reproducibly, or undefined when it can. Accepts
 * `repository:tag` and `repository@sha256:<64 hex>` (optionally both); rejects an empty reference, a
 * missing or empty tag and `latest`, because each lets the same program deploy different code.
 */
export function imageReferenceProblem(reference: string): string | undefined {
  const ref = reference.trim();
  if (ref === "")
    return "image is empty; give a pinned reference such as ghcr.io/acme/api:1.4.2 or ghcr.io/acme/api@sha256:<digest>";
  const at = ref.indexOf("@");
  const named = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  // A tag is what follows the last ":" after the last "/" (a ":" before it belongs to a registry port).
  const colon = named.lastIndexOf(":");
  const hasTag = colon > named.lastIndexOf("/");
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  if (
    repository === "" ||
    !/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(repository)
  )
    return `image "${ref}" has no valid repository (lowercase host/path such as ghcr.io/acme/api)`;
  if (digest !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest))
      return `image digest "${digest}" is not a sha256 digest of 64 hex digits`;
    if (tag === "latest") return `image "${ref}" names the tag latest; drop it and keep the digest`;
    return undefined;
  }
  if (tag === undefined) return `image "${ref}" has no tag; pin a version or a digest`;
  if (tag === "") return `image "${ref}" has an empty tag; pin a version or a digest`;
  if (tag === "latest") return `image "${ref}" is not reproducible; pin a version or a digest`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `image tag "${tag}" is not a valid tag`;
  return undefined;
}

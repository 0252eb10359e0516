/**
 * Digest pins for tests. The digests are SYNTHETIC (a hex digit repeated 64 times): well-formed, so
 * they exercise the config and policy paths, and obviously not any real image's digest. Never copy
 * them into a stack file.
 */
import { IMAGE_ROLES, IMAGE_ROLE_NAMES, type ImageRole } from "../config/images";
import { CATALOGS } from "../services";

/** A synthetic, well-formed sha256 digest: `sha256:` and `digit` 64 times. */
export const syntheticDigest = (digit: number): string => `sha256:${(digit % 16).toString(16).repeat(64)}`;

/** `platform:images` pinning every role: its first default (engine version 15, the stacks' own) by a digest of its own. */
export function everyRolePinned(): Record<ImageRole, string> {
  return Object.fromEntries(
    IMAGE_ROLE_NAMES.map((role, i) => [role, `${IMAGE_ROLES[role].defaults[0]}@${syntheticDigest(i + 1)}`]),
  ) as Record<ImageRole, string>;
}

/** `platform:services` pinning every catalog service by the all-zero digest. */
export function everyServicePinned(): Record<string, { imageTag: string }> {
  return Object.fromEntries(
    Object.values(CATALOGS).flatMap((catalog) =>
      catalog.services.map((s) => [`${catalog.name}/${s.name}`, { imageTag: syntheticDigest(0) }]),
    ),
  );
}

/**
 * The config layer's entry point: reads the running stack's Pulumi config and returns validated,
 * fully-defaulted settings, with secret values wrapped as Pulumi secrets from the moment they leave
 * the config store.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolveSettings, type PlatformSettings } from "./settings";

export * from "./settings";
export * from "./schema";
export * from "./profiles";

/** `isConfigSecret` is exported by the runtime but missing from its type declarations. */
const runtimeConfig = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };

export interface SecretInputs {
  /** External credentials keyed `<catalog>.<ENV>`, each a Pulumi secret. */
  externalSecrets: Record<string, pulumi.Output<string>>;
  alertWebhookUrl?: pulumi.Output<string>;
}

/** Loads the current stack's settings. Throws ConfigError (every problem listed) on bad config. */
export function loadSettings(): { settings: PlatformSettings; secrets: SecretInputs } {
  const values = pulumi.runtime.allConfig();
  // Every namespace's: a value under a misspelt `platform` namespace is reported without being shown.
  const secretKeys = new Set(Object.keys(values).filter((k) => runtimeConfig.isConfigSecret(k)));
  const { settings, secrets } = resolveSettings({
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    values,
    secretKeys,
  });
  return {
    settings,
    secrets: {
      externalSecrets: Object.fromEntries(
        Object.entries(secrets.externalSecrets).map(([k, v]) => [k, pulumi.secret(v)]),
      ),
      ...(secrets.alertWebhookUrl ? { alertWebhookUrl: pulumi.secret(secrets.alertWebhookUrl) } : {}),
    },
  };
}

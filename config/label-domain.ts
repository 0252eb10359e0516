/**
 * The label domain of the platform's own program: the prefix of the keys of every label, annotation
 * and tag the components write beyond `app.kubernetes.io/*` (`platform.example.com/platform`, ...).
 * The library's components default to their own neutral prefix; the program passes this one to each,
 * and the policy pack and the render's analysis read the program's objects by it.
 */
export const PLATFORM_LABEL_DOMAIN = "platform.example.com";

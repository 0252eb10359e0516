/**
 * The analyses of one rendered stack, in one place for the tests, the render and the policy pack:
 * the connectivity model built from the rendered objects, checked against the intent derived from the
 * stack's settings and catalog plans.
 */
import { planCatalog, type CatalogPlan } from "../config/plan";
import { type PlatformSettings } from "../config/settings";
import { clusterModel, type KubernetesObject } from "./cluster-model";
import { checkIntent, stackIntent, type Intent, type IntentReport } from "./intent";
import { type ClusterModel } from "./network-policy";

export interface ConnectivityAnalysis {
  plans: CatalogPlan[];
  intent: Intent;
  model: ClusterModel;
  report: IntentReport;
}

export function analyseConnectivity(
  settings: PlatformSettings,
  objects: readonly KubernetesObject[],
): ConnectivityAnalysis {
  const plans = settings.catalogs.map((c) => planCatalog(settings, c));
  const intent = stackIntent(settings, plans);
  const model = clusterModel(objects, intent.knownPods);
  return { plans, intent, model, report: checkIntent(model, intent) };
}

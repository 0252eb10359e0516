/**
 * The `platform-baseline` policy pack: `pulumi preview --policy-pack policy` (or `pulumi up`) runs
 * this module in its own Node.js process, next to the program.
 *
 * How the stage is known: the Pulumi CLI starts the pack with the stack's name and config in its
 * environment (PULUMI_NODEJS_STACK, PULUMI_CONFIG), so `pulumi.getStack()` and
 * `new pulumi.Config("platform")` read the same stack the program runs for. The stage is the stack's
 * `platform:stage`, else its name; a stack the pack cannot place is held to production.
 *
 * Enforcement: production → every policy mandatory (a violation fails the preview, so `pulumi up`
 * never starts changing anything); every other stage → advisory (reported as warnings). Rule
 * content that differs by stage (HPA coverage from staging on, Multi-AZ and failover in production)
 * follows the same stage.
 *
 * The rules themselves live in `./rules` as plain functions, tested without this server.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  PolicyPack,
  type EnforcementLevel,
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { RULES, stageFor, type Rule, type RuleContext, type RuleResource } from "./rules";

const stage = stageFor(pulumi.getStack(), new pulumi.Config("platform").get("stage"));
const ctx: RuleContext = { stage, stack: pulumi.getStack() };
const enforcementLevel: EnforcementLevel = stage === "production" ? "mandatory" : "advisory";

/** A stack resource as the rules take it (dependencies as URNs). */
function toRuleResource(r: PolicyResource): RuleResource {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    dependencies: r.dependencies.map((d) => d.urn),
    propertyDependencies: Object.fromEntries(
      Object.entries(r.propertyDependencies).map(([k, deps]) => [k, deps.map((d) => d.urn)]),
    ),
  };
}

function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
  if (rule.kind === "resource") {
    return {
      name: rule.name,
      description: rule.description,
      enforcementLevel,
      validateResource: (args, reportViolation) => {
        if (!rule.resourceTypes.includes(args.type)) return;
        for (const message of rule.check(
          { type: args.type, name: args.name, urn: args.urn, props: args.props },
          ctx,
        ))
          reportViolation(message);
      },
    };
  }
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel,
    validateStack: (args, reportViolation) => {
      for (const v of rule.check(args.resources.map(toRuleResource), ctx)) reportViolation(v.message, v.urn);
    },
  };
}

new PolicyPack("platform-baseline", {
  description: `Platform baseline (stage ${stage}: ${enforcementLevel}).`,
  enforcementLevel,
  policies: RULES.map(toPolicy),
});

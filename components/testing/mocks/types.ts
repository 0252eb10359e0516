/**
 * Per-domain mock tables. Each domain file exports the resource types and invokes it answers; the
 * registry in index.ts combines them. A resource type without an entry gets a generic answer (its
 * inputs echoed back with a stable id); an invoke without an entry fails loudly.
 */
import type * as pulumi from "@pulumi/pulumi";

export type ResourceMock = (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown>;
export type InvokeMock = (args: pulumi.runtime.MockCallArgs) => Record<string, unknown>;

export interface MockDomain {
  /** Extra outputs per resource type token (merged over the echoed inputs). */
  resources: Record<string, ResourceMock>;
  /** Results per invoke token. */
  invokes: Record<string, InvokeMock>;
}

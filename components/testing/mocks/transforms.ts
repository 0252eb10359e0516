/**
 * Pulumi's `transforms` resource option, under mocks. The SDK does not run transforms itself: it
 * registers each as a callback and sends the callback's token with the resource; the engine calls it
 * before registering the resource, and again for every child of a component that carries it. A mock
 * monitor has no engine, so `transforms` would silently do nothing under `setMocks`. This does what
 * the engine does: it calls the resource's own transforms, then its ancestors', and registers the
 * resource with the properties they return.
 *
 * Options a transform returns are not applied (the properties are what the tests look at).
 */
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import * as settings from "@pulumi/pulumi/runtime/settings";

interface Monitor {
  registerResource(req: RegisterResourceRequest, callback: (err: unknown, res: unknown) => void): unknown;
}

type CallbackFn = (request: Uint8Array) => Promise<resproto.TransformResponse>;

/** Makes `monitor` apply transforms (own, then inherited from parents) as the engine does. */
export function emulateTransforms(monitor: Monitor): void {
  const inherited = new Map<string, string[]>();
  const register = monitor.registerResource.bind(monitor);
  const newUrn = (
    monitor as unknown as { newUrn(parent: string, type: string, name: string): string }
  ).newUrn.bind(monitor);
  monitor.registerResource = async (req, callback) => {
    const tokens = [
      ...req.getTransformsList().map((c) => c.getToken()),
      ...(inherited.get(req.getParent()) ?? []),
    ];
    if (!req.getCustom()) inherited.set(newUrn(req.getParent(), req.getType(), req.getName()), tokens);
    if (tokens.length > 0) {
      const server = settings.getCallbacks() as unknown as { _callbacks: Map<string, CallbackFn> };
      for (const token of tokens) {
        const fn = server._callbacks.get(token);
        if (!fn) throw new Error(`transform callback ${token} is not registered`);
        const request = new resproto.TransformRequest();
        request.setType(req.getType());
        request.setName(req.getName());
        request.setCustom(req.getCustom());
        request.setParent(req.getParent());
        const object = req.getObject();
        if (object) request.setProperties(object);
        request.setOptions(new resproto.TransformResourceOptions());
        const response = await fn(request.serializeBinary());
        const properties = response.getProperties();
        if (properties) req.setObject(properties);
      }
    }
    return register(req, callback);
  };
}

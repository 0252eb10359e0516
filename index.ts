import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { loadSettings } from "./config";

const { settings } = loadSettings();
const ns = settings.catalogs.map((c) => new k8s.core.v1.Namespace(c.name, { metadata: { name: c.namespace } }));
const pw = new random.RandomPassword("pw", { length: 20 });
export const namespaces = ns.map((n) => n.metadata.name);
export const password = pw.result;
export const stage = pulumi.output(settings.stage);

/**
 * The images of the data services and their Jobs, by role: what each `platform:images.<role>` key
 * pins, and the components' defaults it replaces. The program passes a set role to the component's
 * `image` arg (index.ts); the render maps every unpinned image back to the key that pins it
 * (scripts/images.ts).
 *
 * A role's value replaces its default for every engine version: a stack that changes
 * `platform:database.engineVersion` (or `broker.engineVersion`) changes its pins with it.
 */
import { RATE_LIMIT_REDIS_IMAGE } from "../components/IngressGateway";
import { POSTGRES_IMAGES } from "../components/ManagedPostgres";
import { BROKER_BOOTSTRAP_IMAGE, RABBITMQ_IMAGES } from "../components/MessageBroker";
import { CACHE_IMAGES } from "../components/RedisCache";
import type { ImagesConfig } from "./schema";

export type ImageRole = keyof ImagesConfig;

export interface ImageRoleInfo {
  /** What runs the role's image. */
  runs: string;
  /** The components' defaults for the role (one per engine version). */
  defaults: readonly string[];
}

export const IMAGE_ROLES: Readonly<Record<ImageRole, ImageRoleInfo>> = {
  postgres: {
    runs: "PostgreSQL without TimescaleDB: the in-cluster StatefulSet, and psql in its bootstrap Job (RDS included)",
    defaults: Object.values(POSTGRES_IMAGES.postgres.images),
  },
  timescaledb: {
    runs: "PostgreSQL with TimescaleDB as an in-cluster StatefulSet, and its bootstrap Job",
    defaults: Object.values(POSTGRES_IMAGES.timescaledb.images),
  },
  cloudnativepg: {
    runs: "PostgreSQL without TimescaleDB on CloudNativePG (the Cluster's instances), and its bootstrap Job",
    defaults: Object.values(POSTGRES_IMAGES.cloudnativepg.images),
  },
  cloudnativepgTimescaledb: {
    runs: "PostgreSQL with TimescaleDB on CloudNativePG (the Cluster's instances), and its bootstrap Job",
    defaults: Object.values(POSTGRES_IMAGES.cloudnativepgTimescaledb.images),
  },
  redis: {
    runs: 'the caches with engine "redis" (in-cluster server, and redis-cli in every bootstrap Job, ElastiCache included), and the gateway\'s rate-limit Redis',
    defaults: [...new Set([CACHE_IMAGES.redis, RATE_LIMIT_REDIS_IMAGE])],
  },
  valkey: {
    runs: 'the caches with engine "valkey" (in-cluster server and bootstrap Jobs)',
    defaults: [CACHE_IMAGES.valkey],
  },
  rabbitmq: {
    runs: "the in-cluster RabbitMQ server (a `-management` build of the official image)",
    defaults: Object.values(RABBITMQ_IMAGES),
  },
  curl: {
    runs: "the message broker's bootstrap Job (exchanges and users through the management API; both backends)",
    defaults: [BROKER_BOOTSTRAP_IMAGE],
  },
};

export const IMAGE_ROLE_NAMES = Object.keys(IMAGE_ROLES) as ImageRole[];

/** The full config key of a role: `platform:images.<role>`. */
export function imageConfigKey(role: ImageRole): string {
  return `platform:images.${role}`;
}

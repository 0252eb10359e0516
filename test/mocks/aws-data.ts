/** @pulumi/aws data services: RDS, ElastiCache, Amazon MQ endpoints that consumers read. */
import { type MockDomain } from "./types";

export const awsDataMocks: MockDomain = {
  resources: {},
  invokes: {},
};

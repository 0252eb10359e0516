/** @pulumi/random: generated values are deterministic stand-ins derived from the resource name. */
import { stableHex } from "./common";
import { type MockDomain } from "./types";

const generated = (name: string, length: unknown) =>
  `mock-${stableHex(name, Math.max(8, Number(length ?? 32)))}`.slice(0, Math.max(8, Number(length ?? 32)));

export const randomMocks: MockDomain = {
  resources: {
    "random:index/randomPassword:RandomPassword": ({ name, inputs }) => {
      const result = generated(name, inputs.length);
      return { result, bcryptHash: `$2a$10$${stableHex(`${name}-bcrypt`, 53)}` };
    },
    "random:index/randomString:RandomString": ({ name, inputs }) => ({
      result: generated(name, inputs.length),
    }),
    "random:index/randomId:RandomId": ({ name, inputs }) => {
      const hex = stableHex(name, Number(inputs.byteLength ?? 8) * 2);
      return {
        hex,
        b64Url: Buffer.from(hex, "hex").toString("base64url"),
        b64Std: Buffer.from(hex, "hex").toString("base64"),
        dec: BigInt(`0x${hex}`).toString(),
      };
    },
    "random:index/randomPet:RandomPet": ({ name }) => ({ id: `mock-${stableHex(name, 6)}` }),
  },
  invokes: {},
};

/** Readers for loosely-typed rendered objects: a wrong shape reads as empty, never as a crash. */
export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const text = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);

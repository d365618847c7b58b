// IPv4 addresses and blocks, and Kubernetes quantities: the arithmetic the preflight needs.
import { parseIpv4Cidr } from "../../stacks/validators";

/** Whether an IPv4 address lies in a CIDR block (false for anything that is not IPv4). */
export function isIpInCidr(ip: string, cidr: string): boolean {
  const address = parseIpv4Cidr(`${ip}/32`);
  const block = parseIpv4Cidr(cidr);
  if (!address || !block) return false;
  const mask = block.prefix === 0 ? 0 : (0xffffffff << (32 - block.prefix)) >>> 0;
  return (address.network & mask) >>> 0 === block.network;
}

export const IPV4_ADDRESS = /\b((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})\b/;

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/**
 * A Kubernetes quantity as a number in its base unit (cores, bytes): `250m` is 0.25, `1Gi` is
 * 1073741824, `1e3` is 1000. undefined for anything else.
 */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE]?)$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2];
  if (suffix in BINARY) return number * BINARY[suffix];
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * DECIMAL[suffix];
}

/** A quantity for a message: cores as `1.5` or `250m`, bytes in Mi/Gi where exact enough. */
export function formatQuantity(value: number, resource: string): string {
  if (resource.endsWith("memory")) {
    if (value >= 2 ** 30 && value % 2 ** 27 === 0) return `${value / 2 ** 30}Gi`;
    if (value >= 2 ** 20) return `${Math.round((value / 2 ** 20) * 10) / 10}Mi`;
    return String(value);
  }
  if (resource === "pods") return String(value);
  return value < 1 || !Number.isInteger(value) ? `${Math.round(value * 1000)}m` : String(value);
}

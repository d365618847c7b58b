// Pure value checks the schema uses: DNS names, CIDRs, Kubernetes quantities, pinned images,
// Prometheus-style durations. No Pulumi import: the schema and its tests run without a runtime.

/** RFC 1123 label, as Kubernetes requires for namespace and Service names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split(".").every((l) => l.length <= DNS_LABEL_MAX && DNS_LABEL.test(l));
}

/** A hostname for a certificate: a DNS subdomain, optionally with a single leading `*.` wildcard. */
export function isCertificateHostname(value: string): boolean {
  if (!value.startsWith("*.")) return isDnsSubdomain(value);
  const bare = value.slice(2);
  // `*.com` would cover a whole top-level domain: require at least two labels under the wildcard.
  return bare.includes(".") && isDnsSubdomain(bare);
}

/** Whether a certificate name (possibly `*.example.com`) covers a hostname, as TLS clients match it. */
export function certificateNameCovers(certName: string, hostname: string): boolean {
  const name = certName.toLowerCase();
  const host = hostname.toLowerCase();
  if (!name.startsWith("*.")) return name === host;
  const suffix = name.slice(1); // ".example.com"
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes(".");
}

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` into its network number; undefined if not an IPv4 CIDR with host bits clear. */
export function parseIpv4Cidr(value: string): Ipv4Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((address & mask) >>> 0 !== address) return undefined;
  return { network: address, prefix };
}

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (a.network & mask) >>> 0 === (b.network & mask) >>> 0;
}

/** Kubernetes resource quantity (`500m`, `2`, `1Gi`, `1.5G`, `1e3`). */
export const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_SUFFIX = /^(|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]+)$/;

export function isQuantity(value: string): boolean {
  const match = QUANTITY.exec(value);
  return !!match && /^[0-9]*\.?[0-9]+$|^[0-9]+\.?$/.test(match[1]) && QUANTITY_SUFFIX.test(match[2]);
}

/**
 * Why an image reference is not pinned, or undefined if it is. Pinned means an explicit tag other
 * than `latest`, or a digest: a moving tag makes `pulumi up` deploy whatever was pushed last.
 */
export function imagePinProblem(image: string): string | undefined {
  if (/\s/.test(image) || image.length === 0) return "not an image reference";
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "has no tag: pin a version (for example `:1.2.3`) or a digest";
  const tag = lastSegment.slice(colon + 1);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return `tag "${tag}" is not a valid tag`;
  if (tag === "latest") return "uses the moving tag `latest`: pin a version or a digest";
  return undefined;
}

/**
 * The release an image's tag names (`5.1.1`, `v3.2`, `5.1.1-20261117`, `5.1.1-debug`, also before a
 * digest), or undefined when the tag says nothing about it (no tag, a bare digest, `stable`).
 */
export function imageTagVersion(image: string): { major: number; minor: number } | undefined {
  const lastSegment = image.slice(image.lastIndexOf("/") + 1).replace(/@.*$/, "");
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return undefined;
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-[A-Za-z0-9.-]+)?$/.exec(lastSegment.slice(colon + 1));
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) };
}

/** Prometheus duration (`30s`, `1m`, `1h30m`) in seconds; undefined if malformed. */
export function parseDurationSeconds(value: string): number | undefined {
  const match = /^((\d+)h)?((\d+)m)?((\d+)s)?$/.exec(value);
  if (!match || value === "") return undefined;
  return Number(match[2] ?? 0) * 3600 + Number(match[4] ?? 0) * 60 + Number(match[6] ?? 0);
}

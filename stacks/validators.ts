// Pure value checks the schema uses: DNS names, CIDRs, Kubernetes quantities (and their
// dimension), image references, AWS regions, Prometheus-style durations. No @pulumi/pulumi import:
// the schema and its tests run without a runtime (the AWS region list is plain data).
import { Region } from "@pulumi/aws/types/enums";

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

/** A label key: an optional DNS-subdomain prefix and `/`, then a name (63 characters, alphanumeric ends). */
export function isLabelKey(value: string): boolean {
  const slash = value.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : value.slice(0, slash);
  const name = slash < 0 ? value : value.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || !isDnsSubdomain(prefix))) return false;
  return isLabelValue(name) && name.length > 0;
}

/** A label value: empty, or up to 63 characters of `[A-Za-z0-9-_.]` with alphanumeric ends. */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value);
}

/** An IANA service name, as a named container port: 1-15 characters, lower-case, digits and '-', one letter. */
export function isPortName(value: string): boolean {
  return (
    value.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(value) &&
    /[a-z]/.test(value) &&
    !value.includes("--")
  );
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

const SUFFIX_FACTOR: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity in base units (cores, bytes), for comparisons; undefined if not a quantity. */
export function quantityValue(value: string): number | undefined {
  if (!isQuantity(value)) return undefined;
  const match = QUANTITY.exec(value) as RegExpExecArray;
  const suffix = match[2];
  const factor = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX_FACTOR[suffix];
  return Number(match[1]) * (factor ?? NaN);
}

/**
 * Why a quantity does not fit its dimension, or undefined. CPU is cores (`2`) or millicores
 * (`500m`); a binary suffix there is a memory size. Memory in `m` is millibytes, never meant.
 */
export function quantityDimensionProblem(
  value: string,
  dimension: "cpu" | "memory" | "storage",
): string | undefined {
  if (!isQuantity(value)) return `"${value}" is not a Kubernetes quantity (for example 500m, 2, 512Mi)`;
  const amount = quantityValue(value) ?? NaN;
  if (!(amount > 0)) return `"${value}" is zero: give a size greater than 0`;
  const suffix = (QUANTITY.exec(value) as RegExpExecArray)[2];
  if (dimension === "cpu" && /i$/.test(suffix))
    return `"${value}" is a memory size; CPU is given in cores ("2") or millicores ("500m")`;
  if (dimension === "cpu" && /^[kMGTPE]$/.test(suffix))
    return `"${value}" means ${amount} cores; CPU is given in cores ("2") or millicores ("500m")`;
  if (dimension !== "cpu" && suffix === "m")
    return `"${value}" means ${amount} bytes (m is milli); did you mean "${value.slice(0, -1)}Mi"?`;
  if (dimension !== "cpu" && amount < 2 ** 20)
    return `"${value}" is ${amount} bytes, less than 1Mi; give a unit (for example "${value}Mi")`;
  return undefined;
}

// ---- image references: the grammar of distribution/reference (regexp.go, read at 0965666) ----
// reference := name [ ":" tag ] [ "@" digest ]; name := [domain "/"] path-component ("/" path-component)*
const ALPHANUMERIC = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
/** reference.NameTotalLengthMax */
const NAME_MAX = 255;

export interface ImageReference {
  readonly name: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** Parses an image reference, or says why it is not one. */
export function parseImageReference(image: string): ImageReference | { problem: string } {
  if (image.length === 0) return { problem: "is empty" };
  if (/\s/.test(image)) return { problem: "contains whitespace" };
  if (/^[a-z]+:\/\//i.test(image)) return { problem: "is a URL: drop the scheme (registry/repository:tag)" };
  const match = REFERENCE.exec(image);
  if (!match) {
    const lower = image.toLowerCase();
    if (lower !== image && REFERENCE.test(lower.replace(/^[^/]*\//, (d) => d)))
      return { problem: "has upper-case letters in the repository path (it must be lower case)" };
    if (/:$/.test(image)) return { problem: 'ends with ":" and no tag' };
    if (/@/.test(image))
      return { problem: "has a malformed digest (algorithm:hex, e.g. sha256: and 64 hex digits)" };
    return { problem: "does not follow the reference grammar [registry[:port]/]path[:tag][@digest]" };
  }
  if (match[1].length > NAME_MAX) return { problem: `has a name longer than ${NAME_MAX} characters` };
  const first = match[1].split("/")[0];
  if (match[1].includes("/") && first !== first.toLowerCase() && !/[.:]/.test(first) && first !== "localhost")
    return {
      problem: `has upper-case letters in "${first}" (repository names are lower case; a registry needs a domain)`,
    };
  const digest = match[3];
  if (digest?.startsWith("sha256:") && !/^sha256:[a-f0-9]{64}$/.test(digest))
    return { problem: "has a sha256 digest that is not 64 lower-case hex digits" };
  return { name: match[1], ...(match[2] ? { tag: match[2] } : {}), ...(digest ? { digest } : {}) };
}

/**
 * Why an image reference is not usable or not pinned, or undefined if it is. Pinned means an
 * explicit tag other than `latest`, or a digest: a moving tag makes `pulumi up` deploy whatever
 * was pushed last.
 */
export function imagePinProblem(image: string): string | undefined {
  const parsed = parseImageReference(image);
  if ("problem" in parsed) return `"${image}" is not an image reference: it ${parsed.problem}`;
  if (parsed.digest) return undefined;
  if (!parsed.tag) return "has no tag: pin a version (for example `:1.2.3`) or a digest";
  if (parsed.tag === "latest") return "uses the moving tag `latest`: pin a version or a digest";
  return undefined;
}

// ---- AWS regions: the list @pulumi/aws ships (its Region enum, kept current with each release) ----
export const AWS_REGIONS: readonly string[] = Object.values(Region);

export function isAwsRegion(value: string): boolean {
  return AWS_REGIONS.includes(value);
}

/** Looks like `xx-yyyy-N`: meant to be an AWS region. */
export function looksLikeAwsRegion(value: string): boolean {
  return /^[a-z]{2,4}(-[a-z]+)+-\d+$/.test(value);
}

/** The closest AWS region names, for "did you mean". */
export function nearestAwsRegions(value: string): string[] {
  const score = (r: string) => {
    let same = 0;
    for (let i = 0; i < Math.min(r.length, value.length); i++) if (r[i] === value[i]) same++;
    return same - Math.abs(r.length - value.length);
  };
  return [...AWS_REGIONS].sort((a, b) => score(b) - score(a)).slice(0, 2);
}

/** Prometheus label values and Fluent Bit record values: no spaces, at most 63 characters. */
export const LABEL_VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * The release an image's tag names (`5.1.1`, `v3.2`, `5.1.1-20261117`, `5.1.1-debug`, also before a
 * digest), or undefined when the tag says nothing about it (no tag, a bare digest, `stable`).
 */
export function imageTagVersion(image: string): { major: number; minor: number } | undefined {
  const parsed = parseImageReference(image);
  if ("problem" in parsed || parsed.tag === undefined) return undefined;
  const match = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-[A-Za-z0-9.-]+)?$/.exec(parsed.tag);
  return match === null ? undefined : { major: Number(match[1]), minor: Number(match[2]) };
}

/** Prometheus duration (`30s`, `1m`, `1h30m`) in seconds; undefined if malformed. Zero parses as 0. */
export function parseDurationSeconds(value: string): number | undefined {
  const match = /^((\d+)h)?((\d+)m)?((\d+)s)?$/.exec(value);
  if (!match || value === "") return undefined;
  return Number(match[2] ?? 0) * 3600 + Number(match[4] ?? 0) * 60 + Number(match[6] ?? 0);
}

// Property paths in Pulumi's syntax (`metadata.labels`, `spec.containers[0].image`,
// `data["ca.crt"]`, `spec.*`), as `ignoreChanges` and `replaceOnChanges` take them and as the
// engine and the Kubernetes provider report changes. Parsing follows resource.ParsePropertyPath
// (pulumi/pulumi sdk/go/common/resource/properties_path.go); containment follows
// PropertyPath.Contains: a path contains itself and everything below it, `*` matches any one key
// or index.

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `["spec", "containers", 0, "image"]` -> `spec.containers[0].image`; odd keys are quoted. */
export function formatPropertyPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (segment === "*") out += out ? ".*" : "*";
    else if (PLAIN_KEY.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The inverse of formatPropertyPath; undefined when the text is not a property path. */
export function parsePropertyPath(text: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  let i = 0;
  let expectKey = true;
  while (i < text.length) {
    const c = text[i];
    if (c === "[") {
      const close = text.indexOf("]", i);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (inner === "*") segments.push("*");
      else if (inner.startsWith('"') && inner.endsWith('"') && inner.length >= 2) {
        // A quoted key may itself hold "]": find the closing quote first.
        const end = text.indexOf('"]', i + 2);
        if (end < 0) return undefined;
        try {
          segments.push(JSON.parse(text.slice(i + 1, end + 1)) as string);
        } catch {
          return undefined;
        }
        i = end + 2;
        expectKey = false;
        continue;
      } else return undefined;
      i = close + 1;
      expectKey = false;
    } else if (c === ".") {
      if (expectKey) return undefined;
      i += 1;
      expectKey = true;
    } else {
      let end = i;
      while (end < text.length && text[end] !== "." && text[end] !== "[") end += 1;
      segments.push(text.slice(i, end));
      i = end;
      expectKey = false;
    }
  }
  return expectKey && segments.length > 0 ? undefined : segments;
}

/** Whether `outer` names `inner` or one of its ancestors (PropertyPath.Contains, `*` a wildcard). */
export function pathContains(outer: readonly PathSegment[], inner: readonly PathSegment[]): boolean {
  if (outer.length > inner.length) return false;
  return outer.every((segment, i) => segment === "*" || segment === inner[i]);
}

/** The value at a path, or undefined. */
export function valueAt(value: unknown, segments: readonly PathSegment[]): unknown {
  let cursor: unknown = value;
  for (const segment of segments) {
    if (cursor === null || typeof cursor !== "object") return undefined;
    cursor = (cursor as Record<string | number, unknown>)[segment];
  }
  return cursor;
}

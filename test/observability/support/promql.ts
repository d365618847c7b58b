// A small PromQL scanner for tests: which metric names does an expression read?
// Enough for the expressions this project generates, not a full PromQL parser.

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals (regexes, label values)
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // range durations
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ""); // label lists
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const start = match.index ?? 0;
    const name = match[0];
    const after = stripped.slice(start + name.length);
    if (/^\s*\(/.test(after)) continue; // a function call or aggregation
    if (KEYWORDS.has(name)) continue;
    if (start > 0 && /[0-9.]/.test(stripped[start - 1])) continue; // unit or exponent of a number
    names.add(name);
  }
  return [...names];
}

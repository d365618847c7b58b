// PromQL for the tests, read through Prometheus' own Lezer grammar (@prometheus-io/lezer-promql, the
// grammar of the Prometheus UI, pinned to the release of the Prometheus the stack deploys): syntax
// errors with their position, and the selectors, metric names and aggregations of an expression,
// taken from the syntax tree. The grammar checks syntax, not types (`rate(up)` parses); promtool and
// the real Prometheus in promtool.test.ts and federation.e2e.test.ts stay the final word.
import { parser } from "@prometheus-io/lezer-promql";

type SyntaxNode = ReturnType<typeof parser.parse>["topNode"];

/** A syntax error: the expression, the offset where the grammar stopped and a caret under it. */
export class PromqlSyntaxError extends Error {
  constructor(
    readonly expression: string,
    readonly position: number,
    detail: string,
  ) {
    super(
      `PromQL syntax error at position ${position} (${detail}) in ${JSON.stringify(expression)}\n` +
        `  ${expression}\n  ${" ".repeat(position)}^`,
    );
    this.name = "PromqlSyntaxError";
  }
}

export type MatchOperator = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  readonly label: string;
  readonly op: MatchOperator;
  /** The string literal's value, quotes and escapes removed. */
  readonly value: string;
}

export interface VectorSelector {
  /** The metric name written before the braces; undefined for `{__name__=~"..."}` and `{...}`. */
  readonly metric: string | undefined;
  readonly matchers: readonly LabelMatcher[];
  /** The selector's text in the expression. */
  readonly text: string;
}

export interface Aggregation {
  /** `sum`, `count`, `topk`, ... */
  readonly op: string;
  readonly modifier: "by" | "without" | undefined;
  readonly labels: readonly string[];
}

/** A parsed expression: the top node of its syntax tree and the text the positions refer to. */
export interface PromqlExpression {
  readonly text: string;
  readonly top: SyntaxNode;
}

/** Parses with the grammar; throws PromqlSyntaxError at the first error node of the tree. */
export function parsePromql(expression: string): PromqlExpression {
  const tree = parser.parse(expression);
  let error: { from: number; to: number } | undefined;
  tree.iterate({
    enter: (node) => {
      if (error !== undefined) return false;
      if (node.type.isError) error = { from: node.from, to: node.to };
      return undefined;
    },
  });
  const top = tree.topNode.firstChild;
  if (error === undefined && top === null) error = { from: expression.length, to: expression.length };
  if (error !== undefined) {
    const found = expression.slice(error.from, Math.max(error.to, error.from + 1));
    throw new PromqlSyntaxError(
      expression,
      error.from,
      error.from >= expression.trimEnd().length
        ? "unexpected end of expression"
        : `unexpected ${JSON.stringify(found)}`,
    );
  }
  return { text: expression, top: top as SyntaxNode };
}

function textOf(expression: PromqlExpression, node: SyntaxNode): string {
  return expression.text.slice(node.from, node.to);
}

/** Every node of this name in the subtree, the node itself included, in document order. */
function descendants(node: SyntaxNode, name: string): SyntaxNode[] {
  const found = node.name === name ? [node] : [];
  return [...found, ...children(node).flatMap((child) => descendants(child, name))];
}

function children(node: SyntaxNode): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) found.push(child);
  return found;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** The value of a PromQL string literal: "..." and '...' with Go escapes, `...` raw. */
function stringValue(literal: string): string {
  const body = literal.slice(1, -1);
  if (literal.startsWith("`")) return body;
  return body.replace(/\\(.)/g, (escape: string, char: string) => ESCAPES[char] ?? escape);
}

const MATCH_OPERATORS: Readonly<Record<string, MatchOperator>> = {
  EqlSingle: "=",
  Neq: "!=",
  EqlRegex: "=~",
  NeqRegex: "!~",
};

function labelMatcher(expression: PromqlExpression, node: SyntaxNode): LabelMatcher {
  const parts = children(node);
  const nameNode = parts.find((part) => part.name === "LabelName" || part.name === "QuotedLabelName");
  const opNode = parts.find((part) => part.name === "MatchOp")?.firstChild;
  const valueNode = parts.find((part) => part.name === "StringLiteral");
  const name = nameNode === undefined ? "" : textOf(expression, nameNode);
  if (opNode === undefined || opNode === null || valueNode === undefined) {
    // `{"metric.name"}`: a quoted metric name on its own stands for __name__="metric.name".
    return { label: "__name__", op: "=", value: stringValue(name) };
  }
  return {
    label: nameNode?.name === "QuotedLabelName" ? stringValue(name) : name,
    op: MATCH_OPERATORS[opNode.name],
    value: stringValue(textOf(expression, valueNode)),
  };
}

function vectorSelector(expression: PromqlExpression, node: SyntaxNode): VectorSelector {
  const parts = children(node);
  const metric = parts.find((part) => part.name === "Identifier");
  const matchers = parts.find((part) => part.name === "LabelMatchers");
  return {
    metric: metric === undefined ? undefined : textOf(expression, metric),
    matchers:
      matchers === undefined
        ? []
        : children(matchers)
            .filter((part) => part.name === "UnquotedLabelMatcher" || part.name === "QuotedLabelMatcher")
            .map((part) => labelMatcher(expression, part)),
    text: textOf(expression, node),
  };
}

/** Every vector selector of an expression (inside range selectors, subqueries and calls too), in order. */
export function vectorSelectors(expression: string): VectorSelector[] {
  const parsed = parsePromql(expression);
  return descendants(parsed.top, "VectorSelector").map((node) => vectorSelector(parsed, node));
}

/** The metric names an expression reads: selector names and `__name__="..."` matchers, first use first. */
export function metricNames(expression: string): string[] {
  const names = new Set<string>();
  for (const selector of vectorSelectors(expression)) {
    if (selector.metric !== undefined) names.add(selector.metric);
    for (const matcher of selector.matchers) {
      if (matcher.label === "__name__" && matcher.op === "=") names.add(matcher.value);
    }
  }
  return [...names];
}

/** Every aggregation (`sum by (le) (...)`), outermost first. */
export function aggregations(expression: string): Aggregation[] {
  const parsed = parsePromql(expression);
  return descendants(parsed.top, "AggregateExpr").map((node) => {
    const parts = children(node);
    const op = parts.find((part) => part.name === "AggregateOp");
    const modifier = parts.find((part) => part.name === "AggregateModifier");
    const keyword = modifier?.firstChild?.name;
    const grouping =
      modifier === undefined ? [] : children(modifier).filter((p) => p.name === "GroupingLabels");
    return {
      op: op === undefined ? "" : textOf(parsed, op),
      modifier: keyword === "By" ? "by" : keyword === "Without" ? "without" : undefined,
      labels: grouping
        .flatMap(children)
        .filter((part) => part.name === "LabelName")
        .map((part) => textOf(parsed, part)),
    };
  });
}

/** Prometheus anchors label regexes at both ends; RE2 and JavaScript agree on the subset used here. */
function matches(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case "=":
      return value === matcher.value;
    case "!=":
      return value !== matcher.value;
    case "=~":
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case "!~":
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

/**
 * Why a `match[]` entry is not a series selector /federate accepts, or undefined: it must be one
 * instant vector selector (no function, operator, range or offset) and, as Prometheus requires, name
 * a metric or carry a matcher that does not match the empty string.
 */
export function seriesSelectorProblem(selector: string): string | undefined {
  const parsed = parsePromql(selector);
  if (parsed.top.name !== "VectorSelector") {
    return `is not a series selector (parses as ${parsed.top.name}): ${JSON.stringify(selector)}`;
  }
  const { metric, matchers } = vectorSelector(parsed, parsed.top);
  if (metric === undefined && matchers.every((matcher) => matches(matcher, ""))) {
    return `matches every series (each matcher matches the empty string): ${JSON.stringify(selector)}`;
  }
  return undefined;
}

/** Whether a series selector's metric-name conditions admit this name (other labels are not considered). */
export function selectsMetricName(selector: string, name: string): boolean {
  const parsed = parsePromql(selector);
  if (parsed.top.name !== "VectorSelector") return false;
  const { metric, matchers } = vectorSelector(parsed, parsed.top);
  if (metric !== undefined && metric !== name) return false;
  return matchers
    .filter((matcher) => matcher.label === "__name__")
    .every((matcher) => matches(matcher, name));
}

// Kubernetes label selectors, matched in one place for the policy rules and the plan's manifest checks
// (k8s.io/apimachinery/pkg/apis/meta/v1: LabelSelector, LabelSelectorAsSelector).
import { asArray, asRecord, asString } from "./kubernetes";

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an empty selector matches all. */
export function labelSelectorMatches(selector: unknown, labels: Record<string, unknown>): boolean {
  const record = asRecord(selector);
  if (record === undefined) return false; // a null selector selects nothing
  const matchLabels = asRecord(record.matchLabels) ?? {};
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) return false;
  return asArray(record.matchExpressions).every((expressionEntry) => {
    const expression = asRecord(expressionEntry) ?? {};
    const key = asString(expression.key) ?? "";
    const values = asArray(expression.values);
    const present = Object.prototype.hasOwnProperty.call(labels, key);
    switch (asString(expression.operator)) {
      case "In":
        return present && values.includes(labels[key]);
      case "NotIn":
        return !present || !values.includes(labels[key]);
      case "Exists":
        return present;
      case "DoesNotExist":
        return !present;
      default:
        return false;
    }
  });
}

/** True for a selector object with no matchLabels and no matchExpressions: it selects every object. */
export function selectsEverything(selector: unknown): boolean {
  const record = asRecord(selector);
  return (
    record !== undefined &&
    Object.keys(asRecord(record.matchLabels) ?? {}).length === 0 &&
    asArray(record.matchExpressions).length === 0
  );
}

// Grafana dashboard (JSON model) for the hub: Conjur traffic and federation health per spoke.
// Its queries use only series the spokes federate (recording rules, up, Conjur's own metrics).
import { FEDERATE_JOB_PREFIX, FOLLOWER_JOB, escapeRegex } from "./model";
import { RECORDING_RULES } from "./prometheus";

/** The dashboard's JSON model, as the builder writes it (Grafana schema version 39). */
export type GrafanaDashboard = ReturnType<typeof buildFederationDashboard>;
type Thresholds = Array<{ color: string; value: number | null }>;

export const FEDERATION_DASHBOARD_UID = "hubspoke-conjur-federation";

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;
const CLUSTER = 'cluster=~"$cluster"';

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  exprs: Array<{ expr: string; legend: string }>;
  type?: "timeseries" | "stat";
  thresholds?: Thresholds;
}

function panel(spec: PanelSpec, id: number, x: number, y: number, w: number) {
  const defaults: { unit: string; min: number; thresholds?: { mode: "absolute"; steps: Thresholds } } = {
    unit: spec.unit,
    min: 0,
  };
  if (spec.thresholds !== undefined) defaults.thresholds = { mode: "absolute", steps: spec.thresholds };
  return {
    id,
    type: spec.type ?? "timeseries",
    title: spec.title,
    description: spec.description,
    datasource: { ...DATASOURCE },
    gridPos: { x, y, w, h: 8 },
    fieldConfig: { defaults, overrides: [] },
    options:
      spec.type === "stat"
        ? { reduceOptions: { calcs: ["lastNotNull"] }, colorMode: "background" }
        : { legend: { displayMode: "table", placement: "bottom" } },
    targets: spec.exprs.map((e, i) => ({
      refId: String.fromCharCode(65 + i),
      expr: e.expr,
      legendFormat: e.legend,
    })),
  };
}

/** A timeseries of one recording rule per spoke (`sum` for rates, `max` for ratios and latencies). */
function perSpoke(
  title: string,
  description: string,
  unit: string,
  aggregate: "sum" | "max",
  rule: string,
): PanelSpec {
  return {
    title,
    description,
    unit,
    exprs: [{ expr: `${aggregate} by (cluster) (${rule}{${CLUSTER}})`, legend: "{{cluster}}" }],
  };
}

/** A timeseries of one of the hub's own per-target series of the federate jobs, per spoke. */
function perFederateJob(title: string, description: string, series: string): PanelSpec {
  const expr = `max by (cluster) (${series}{${FEDERATE_JOBS}, ${CLUSTER}})`;
  return {
    title,
    description,
    unit: series === "scrape_duration_seconds" ? "s" : "none",
    exprs: [{ expr, legend: "{{cluster}}" }],
  };
}

const FEDERATE_JOBS = `job=~"${escapeRegex(FEDERATE_JOB_PREFIX)}.*"`;

/** The hub's multi-cluster view; `spokes` seeds the cluster picker until Prometheus has data. */
export function buildFederationDashboard(input: { spokes: string[] }) {
  const follower = `job="${FOLLOWER_JOB}", ${CLUSTER}`;
  const specs: PanelSpec[] = [
    {
      title: "Spokes federated",
      description: "Spokes whose /federate endpoint the hub scraped successfully, out of those configured.",
      unit: "none",
      type: "stat",
      exprs: [{ expr: `count(up{${FEDERATE_JOBS}} == 1) or vector(0)`, legend: "federated" }],
      // Green only when every configured spoke is federated.
      thresholds: [
        { color: "red", value: null },
        { color: "green", value: input.spokes.length },
      ],
    },
    perSpoke(
      "Conjur request rate",
      "Requests per second served by the Conjur followers of each spoke.",
      "reqps",
      "sum",
      RECORDING_RULES.requestRate,
    ),
    perSpoke(
      "Conjur 5xx error ratio",
      "Share of requests answered with a 5xx status, per spoke.",
      "percentunit",
      "max",
      RECORDING_RULES.errorRatio,
    ),
    perSpoke(
      "Conjur 5xx errors",
      "5xx responses per second, per spoke.",
      "reqps",
      "sum",
      RECORDING_RULES.errorRate,
    ),
    perSpoke(
      "Conjur p99 request latency",
      "99th percentile of request duration over 5 minutes, per spoke.",
      "s",
      "max",
      RECORDING_RULES.durationP99,
    ),
    {
      title: "Requests by operation",
      description: "Conjur requests per second by operation (authenticate, fetch secret, ...).",
      unit: "reqps",
      exprs: [
        {
          expr: `sum by (cluster, operation) (${RECORDING_RULES.requestRateByOperation}{${CLUSTER}})`,
          legend: "{{cluster}} {{operation}}",
        },
      ],
    },
    {
      title: "Followers up",
      description:
        "Conjur follower targets the spoke Prometheus scrapes successfully, against all follower targets.",
      unit: "none",
      exprs: [
        { expr: `sum by (cluster) (up{${follower}})`, legend: "{{cluster}} up" },
        { expr: `count by (cluster) (up{${follower}})`, legend: "{{cluster}} targets" },
      ],
    },
    perFederateJob(
      "Federation scrape duration",
      "How long the hub takes to scrape each spoke's /federate; alerts fire near the scrape timeout.",
      "scrape_duration_seconds",
    ),
    perFederateJob(
      "Federation samples per scrape",
      "Samples each federation scrape returns; compare with sample_limit.",
      "scrape_samples_scraped",
    ),
  ];

  // Two panels of half the grid's 24 columns per row.
  const panels = specs.map((spec, i) => panel(spec, i + 1, (i % 2) * 12, Math.floor(i / 2) * 8, 12));

  const options = input.spokes.map((s) => ({ text: s, value: s, selected: false }));
  return {
    uid: FEDERATION_DASHBOARD_UID,
    title: "Conjur hub and spokes",
    tags: ["conjur", "federation", "hubspoke"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus" },
        {
          name: "cluster",
          label: "Cluster",
          type: "query",
          datasource: { ...DATASOURCE },
          definition: "label_values(up, cluster)",
          query: { query: "label_values(up, cluster)", refId: "cluster" },
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: ".+",
          current: { text: ["All"], value: ["$__all"] },
          options,
          sort: 1,
        },
      ],
    },
    panels,
  };
}

/** Every PromQL expression in the dashboard's panels, in panel order. */
export function dashboardExpressions(dashboard: GrafanaDashboard): string[] {
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

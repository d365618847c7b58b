// Grafana dashboard (JSON model) for the hub: Conjur traffic and federation health per spoke.
// Its queries use only series the spokes federate (recording rules, up, Conjur's own metrics).
import { FEDERATE_JOB_PREFIX, FOLLOWER_JOB, assertDnsLabel, escapeRegex } from "./model";
import { RECORDING_RULES } from "./prometheus";

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat: string;
}

export interface DashboardPanel {
  id: number;
  type: "timeseries" | "stat";
  title: string;
  description: string;
  datasource: { type: "prometheus"; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig: {
    defaults: {
      unit: string;
      min?: number;
      max?: number;
      thresholds?: { mode: "absolute"; steps: Array<{ color: string; value: number | null }> };
    };
    overrides: never[];
  };
  options: Record<string, unknown>;
  targets: DashboardTarget[];
}

export interface TemplateVariable {
  name: string;
  label: string;
  type: "datasource" | "query";
  query: string | { query: string; refId: string };
  datasource?: { type: "prometheus"; uid: string };
  definition?: string;
  refresh?: number;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  current?: { text: string[]; value: string[] };
  options?: Array<{ text: string; value: string; selected: boolean }>;
  sort?: number;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: "utc";
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: TemplateVariable[] };
  panels: DashboardPanel[];
}

export const FEDERATION_DASHBOARD_UID = "hubspoke-conjur-federation";

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;
const CLUSTER = 'cluster=~"$cluster"';

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  exprs: Array<{ expr: string; legend: string }>;
  type?: "timeseries" | "stat";
  thresholds?: Array<{ color: string; value: number | null }>;
}

function panel(spec: PanelSpec, id: number, x: number, y: number, w: number): DashboardPanel {
  const defaults: DashboardPanel["fieldConfig"]["defaults"] = { unit: spec.unit, min: 0 };
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

/** The hub's multi-cluster view; `spokes` seeds the cluster picker until Prometheus has data. */
export function buildFederationDashboard(input: { spokes: string[] }): GrafanaDashboard {
  input.spokes.forEach((s, i) => assertDnsLabel(s, `spokes[${i}]`));
  if (new Set(input.spokes).size !== input.spokes.length) throw new Error("spokes: duplicate spoke name");
  const federateJobs = `job=~"${escapeRegex(FEDERATE_JOB_PREFIX)}.*"`;

  const specs: PanelSpec[] = [
    {
      title: "Spokes federated",
      description: "Spokes whose /federate endpoint the hub scraped successfully, out of those configured.",
      unit: "none",
      type: "stat",
      exprs: [{ expr: `count(up{${federateJobs}} == 1) or vector(0)`, legend: "federated" }],
      // Green only when every configured spoke is federated.
      thresholds: [
        { color: "red", value: null },
        { color: "green", value: input.spokes.length },
      ],
    },
    {
      title: "Conjur request rate",
      description: "Requests per second served by the Conjur followers of each spoke.",
      unit: "reqps",
      exprs: [
        { expr: `sum by (cluster) (${RECORDING_RULES.requestRate}{${CLUSTER}})`, legend: "{{cluster}}" },
      ],
    },
    {
      title: "Conjur 5xx error ratio",
      description: "Share of requests answered with a 5xx status, per spoke.",
      unit: "percentunit",
      exprs: [
        { expr: `max by (cluster) (${RECORDING_RULES.errorRatio}{${CLUSTER}})`, legend: "{{cluster}}" },
      ],
    },
    {
      title: "Conjur 5xx errors",
      description: "5xx responses per second, per spoke.",
      unit: "reqps",
      exprs: [{ expr: `sum by (cluster) (${RECORDING_RULES.errorRate}{${CLUSTER}})`, legend: "{{cluster}}" }],
    },
    {
      title: "Conjur p99 request latency",
      description: "99th percentile of request duration over 5 minutes, per spoke.",
      unit: "s",
      exprs: [
        { expr: `max by (cluster) (${RECORDING_RULES.durationP99}{${CLUSTER}})`, legend: "{{cluster}}" },
      ],
    },
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
        { expr: `sum by (cluster) (up{job="${FOLLOWER_JOB}", ${CLUSTER}})`, legend: "{{cluster}} up" },
        { expr: `count by (cluster) (up{job="${FOLLOWER_JOB}", ${CLUSTER}})`, legend: "{{cluster}} targets" },
      ],
    },
    {
      title: "Federation scrape duration",
      description:
        "How long the hub takes to scrape each spoke's /federate; alerts fire near the scrape timeout.",
      unit: "s",
      exprs: [
        {
          expr: `max by (cluster) (scrape_duration_seconds{${federateJobs}, ${CLUSTER}})`,
          legend: "{{cluster}}",
        },
      ],
    },
    {
      title: "Federation samples per scrape",
      description: "Samples each federation scrape returns; compare with sample_limit.",
      unit: "none",
      exprs: [
        {
          expr: `max by (cluster) (scrape_samples_scraped{${federateJobs}, ${CLUSTER}})`,
          legend: "{{cluster}}",
        },
      ],
    },
  ];

  const panels = specs.map((spec, i) => {
    const width = 12;
    return panel(spec, i + 1, (i % 2) * width, Math.floor(i / 2) * 8, width);
  });

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

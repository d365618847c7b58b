// Cron schedules as a Kubernetes CronJob reads them (robfig/cron's standard parser: five fields,
// names for months and weekdays, `*`, ranges, lists, steps, and the @-macros), so a schedule the
// controller would refuse is a config error here, and the longest gap between two runs can be
// compared with the recovery point objective. No imports: the schema and the rules both use it.

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  // robfig/cron's bounds are 0-6 (Sunday is 0 only).
  { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

const MACROS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export interface CronSchedule {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  /** Whether day of month / day of week were `*` (cron ORs the two day fields when both are set). */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

export type CronResult = { ok: true; schedule: CronSchedule } | { ok: false; message: string };

function parseValue(text: string, field: FieldSpec): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  return index < 0 ? undefined : index + field.min;
}

function parseField(text: string, field: FieldSpec): Set<number> | string {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "")
      return `${field.name} "${part}" is not a value, range or step`;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        return `${field.name} step "${stepText}" must be a positive number`;
      step = Number(stepText);
    }
    let low: number | undefined;
    let high: number | undefined;
    if (range === "*" || range === "?") {
      low = field.min;
      high = field.max;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-");
      low = parseValue(a ?? "", field);
      high = parseValue(b ?? "", field);
    } else {
      low = parseValue(range, field);
      // `5/15` means 5 through the end, every 15.
      high = stepText !== undefined ? field.max : low;
    }
    if (low === undefined || high === undefined)
      return `${field.name} "${part}" is not a number${field.names ? " or name" : ""}`;
    if (low < field.min || high > field.max)
      return `${field.name} "${part}" is outside ${field.min}-${field.max}`;
    if (low > high) return `${field.name} range "${range}" runs backwards`;
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

/** Parses a schedule; the message says what Kubernetes would refuse. */
export function parseCronSchedule(text: string): CronResult {
  const trimmed = text.trim();
  if (/^(CRON_)?TZ=/.test(trimmed))
    return { ok: false, message: "a time zone inside the schedule is refused by Kubernetes (use UTC)" };
  const expanded = trimmed.startsWith("@") ? MACROS[trimmed] : trimmed;
  if (expanded === undefined)
    return { ok: false, message: `unknown macro "${trimmed}" (use ${Object.keys(MACROS).join(", ")})` };
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5)
    return {
      ok: false,
      message: `"${text}" has ${parts.length} fields; a cron schedule has 5 (minute hour day-of-month month day-of-week)`,
    };
  const sets: Set<number>[] = [];
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i];
    if (field === undefined) break;
    const parsed = parseField(part, field);
    if (typeof parsed === "string") return { ok: false, message: parsed };
    sets.push(parsed);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  return {
    ok: true,
    schedule: {
      minutes,
      hours,
      daysOfMonth,
      months,
      daysOfWeek,
      anyDayOfMonth: parts[2] === "*" || parts[2] === "?",
      anyDayOfWeek: parts[4] === "*" || parts[4] === "?",
    },
  };
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Long enough to see every monthly and yearly pattern twice (not a February 29th-only schedule). */
const WINDOW_DAYS = 800;

function dayMatches(s: CronSchedule, date: Date): boolean {
  if (!s.months.has(date.getUTCMonth() + 1)) return false;
  const dom = s.daysOfMonth.has(date.getUTCDate());
  const dow = s.daysOfWeek.has(date.getUTCDay());
  // Both restricted: either may match (Vixie cron, robfig/cron). One `*`: the other decides.
  if (!s.anyDayOfMonth && !s.anyDayOfWeek) return dom || dow;
  return dom && dow;
}

/**
 * The longest time between two consecutive runs, in seconds (UTC, no daylight saving). Infinity
 * when the schedule runs fewer than twice in two years (for example only on February 30th).
 */
export function longestGapSeconds(s: CronSchedule): number {
  const start = Date.UTC(2026, 0, 1);
  const hours = [...s.hours].sort((a, b) => a - b);
  const minutes = [...s.minutes].sort((a, b) => a - b);
  let previous: number | undefined;
  let longest = 0;
  for (let day = 0; day < WINDOW_DAYS; day++) {
    const dayStart = start + day * DAY_MS;
    if (!dayMatches(s, new Date(dayStart))) continue;
    for (const h of hours) {
      for (const m of minutes) {
        const at = dayStart + (h * 60 + m) * MINUTE_MS;
        if (previous !== undefined) longest = Math.max(longest, at - previous);
        previous = at;
      }
    }
  }
  return longest === 0 ? Infinity : longest / 1000;
}

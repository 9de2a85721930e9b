import type { Registry } from 'prom-client';

type Labels = Record<string, string | number>;

interface MetricValue {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** The values of one metric as a scrape sees them (gauges collected), e.g. `nestream_x_total` or `nestream_y_seconds_count`. */
export async function metricValues(registry: Registry, name: string): Promise<MetricValue[]> {
  const json = (await registry.getMetricsAsJSON()) as unknown as Array<{ name: string; values: MetricValue[] }>;
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = json.find(m => m.name === name) ?? json.find(m => m.name === base);
  if (!metric) return [];
  return metric.values.filter(v => (v.metricName ?? metric.name) === name);
}

/** The value of the series with exactly these labels (undefined when there is no such series). */
export async function metricValue(registry: Registry, name: string, labels: Labels): Promise<number | undefined> {
  const want = Object.entries(labels);
  const rows = await metricValues(registry, name);
  const row = rows.find(v => want.every(([k, x]) => String(v.labels[k]) === String(x)) && Object.keys(v.labels).filter(k => k !== 'le').length === want.length);
  return row?.value;
}

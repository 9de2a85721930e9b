import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shipped dashboard and Prometheus config (`packages/transport/dashboards/`). */
export const DASHBOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'transport', 'dashboards');

export interface DashboardTarget {
  panel: string;
  refId: string;
  expr: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadDashboard(): any {
  return JSON.parse(readFileSync(join(DASHBOARDS_DIR, 'nestream.json'), 'utf8'));
}

/** Every PromQL expression of every panel. */
export function dashboardTargets(dashboard = loadDashboard()): DashboardTarget[] {
  const out: DashboardTarget[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) out.push({ panel: panel.title, refId: target.refId, expr: target.expr });
  }
  return out;
}

/**
 * An expression as Grafana sends it: template variables replaced (`$stream` and `$group` by a regex of
 * their values, "All" being `.*`), `$__rate_interval` by a window.
 */
export function expand(expr: string, vars: { stream: string; group: string; rateInterval: string }): string {
  return expr
    .replaceAll('$__rate_interval', vars.rateInterval)
    .replaceAll('$stream', vars.stream)
    .replaceAll('$group', vars.group);
}

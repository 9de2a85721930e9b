import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES } from '@nestream/transport';
import { DASHBOARDS_DIR, dashboardTargets, loadDashboard } from './dashboard.js';
import { installed } from './prometheus-server.js';

// What Grafana's file provisioning (and the dashboard import) needs of a dashboard JSON, checked here:
// provisioning does not resolve the `__inputs` / `${DS_...}` placeholders of an exported dashboard, a fixed
// `id` clashes with Grafana's own, and panels must reach their data source by a uid that exists: here the
// `datasource` variable, so the dashboard works with whatever Prometheus data source the user has.
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

describe('the Grafana dashboard (dashboards/nestream.json)', () => {
  const dashboard = loadDashboard();
  const text = readFileSync(join(DASHBOARDS_DIR, 'nestream.json'), 'utf8');

  it('has what provisioning needs: title, a stable uid, no id, a schema version, no import placeholders', () => {
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.id ?? null).toBeNull();
    expect(Number.isInteger(dashboard.schemaVersion)).toBe(true);
    // 36+: data sources referenced by { type, uid } objects (Grafana 9 and later).
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.__inputs).toBeUndefined();
    expect(text).not.toMatch(/\$\{DS_/);
  });

  it('has a Prometheus data source variable and multi-value stream and group variables', () => {
    const vars = Object.fromEntries(dashboard.templating.list.map((v: { name: string }) => [v.name, v]));
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['stream', 'group']) {
      expect(vars[name]).toMatchObject({ type: 'query', datasource: DATASOURCE, includeAll: true, multi: true, allValue: '.*' });
      expect(vars[name].definition).toMatch(new RegExp(`^label_values\\(nestream_\\w+.*, ${name}\\)$`));
      expect(vars[name].query.query).toBe(vars[name].definition);
    }
    // Groups offered are those of the chosen streams.
    expect(vars.group.definition).toContain('$stream');
  });

  it('lays out its panels on the 24-column grid without overlaps, each querying the data source variable', () => {
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(Number.isInteger(panel.id)).toBe(true);
      expect(ids.has(panel.id)).toBe(false);
      ids.add(panel.id);
      expect(['row', 'timeseries', 'stat']).toContain(panel.type);
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0).toBe(true);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`) ? panel.title : '').toBe('');
          cells.add(`${i},${j}`);
        }
      }
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual(DATASOURCE);
      expect(panel.description).toEqual(expect.any(String));
      expect(panel.targets.length).toBeGreaterThan(0);
      expect(new Set(panel.targets.map((t: { refId: string }) => t.refId)).size).toBe(panel.targets.length);
      for (const t of panel.targets) expect(t.datasource).toEqual(DATASOURCE);
    }
  });

  it('queries only nestream\'s metrics, all of them, and only variables it defines', () => {
    const known = new Set<string>(Object.values(METRIC_NAMES));
    const used = new Set<string>();
    for (const { panel, expr } of dashboardTargets(dashboard)) {
      for (const [name] of expr.matchAll(/nestream_\w+/g)) {
        const metric = name.replace(/_bucket$/, '');
        expect([panel, known.has(metric)]).toEqual([panel, true]);
        used.add(metric);
      }
      const variables = [...expr.matchAll(/\$(\w+)/g)].map(m => m[1]);
      for (const v of variables) expect(['stream', 'group', '__rate_interval']).toContain(v);
    }
    expect([...used].sort()).toEqual([...known].sort());
  });
});

(installed('promtool') ? describe : describe.skip)('the Prometheus config (dashboards/prometheus.yml)', () => {
  it('is valid for promtool', () => {
    const check = spawnSync('promtool', ['check', 'config', join(DASHBOARDS_DIR, 'prometheus.yml')], { encoding: 'utf8' });
    expect(check.stdout + check.stderr).toContain('SUCCESS');
    expect(check.status).toBe(0);
  });
});
if (!installed('promtool')) console.error('\n!!! SKIPPED: checking dashboards/prometheus.yml needs `promtool` (apt-get install prometheus)\n');

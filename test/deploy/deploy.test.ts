/**
 * deploy/: every file parses; every metric the Grafana dashboard and the alert rules query is exposed by a running
 * icwatch; every ICWATCH_* variable the manifests and the unit set is a real configuration key; the Kubernetes
 * manifests run two replicas that cannot all go at once; promtool (check and unit tests of every alert) and
 * systemd-analyze agree, where installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';
import { envKeys } from '../../src/config/env.js';
import { loadConfig } from '../../src/config/load.js';
import { METRIC_NAMES } from '../../src/metrics/metrics.js';
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { killAll, ROOT, startIcwatch, type IcwatchProcess } from '../helpers/processes.js';

const DEPLOY = join(ROOT, 'deploy');
const read = (path: string) => readFileSync(join(DEPLOY, path), 'utf8');
const K8S_FILES = readdirSync(join(DEPLOY, 'k8s')).filter((f) => f.endsWith('.yaml'));
/** Alert rule files, each with its promtool unit tests beside it (NAME.test.yml). */
const RULE_FILES = readdirSync(join(DEPLOY, 'prometheus')).filter((f) => f.endsWith('.yml') && !f.endsWith('.test.yml'));
const testFileOf = (ruleFile: string) => ruleFile.replace(/\.yml$/, '.test.yml');
/** Series Prometheus makes itself (not scraped from icwatch). */
const PROMETHEUS_OWN = new Set(['up']);
/** Variables the manifests may set that are not icwatch configuration keys. */
const OTHER_VARIABLES = new Set(['NODE_ENV']);

type Unit = Map<string, Array<[string, string]>>;

/** systemd unit file: [Section] headers, Key=Value lines, # and ; comments. Throws on anything else. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Array<[string, string]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1]!, section);
      return;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`icwatch.service line ${i + 1}: expected [Section] or Key=Value, got ${JSON.stringify(raw)}`);
    section.push([kv[1]!, kv[2]!]);
  });
  return unit;
}
const unitValues = (unit: Unit, section: string, key: string) => (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}
const rulesOf = (file: string) => (parseYaml(read(`prometheus/${file}`)) as { groups: Array<{ name: string; rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const rules = () => RULE_FILES.flatMap(rulesOf);
interface RuleTests {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}
const dashboard = () => JSON.parse(read('grafana/icwatch.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };

/** Metric names a PromQL expression reads. */
function metricsIn(expr: string): string[] {
  const names: string[] = expr.match(/\b(icwatch_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g) ?? [];
  if (/\bup\s*\{/.test(expr)) names.push('up');
  return names;
}

/** The configuration in the ConfigMap's icwatch.yaml, loaded as icwatch loads its file. */
/** The ConfigMap's file loaded as the Deployment loads it: with the Secret's variables (`env`). */
function configMapConfig(docs: Array<{ kind: string; data?: Record<string, string> }>, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'icwatch-deploy-'));
  try {
    writeFileSync(join(dir, 'icwatch.yaml'), docs.find((d) => d.kind === 'ConfigMap')!.data!['icwatch.yaml']!);
    return loadConfig({ file: join(dir, 'icwatch.yaml'), env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

describe('deploy/', function () {
  this.timeout(60000);

  describe('files parse and hold what operators need', () => {
    it('systemd unit: hardened, restarts except on 78, secrets from an EnvironmentFile, stops after the shutdown timeout', () => {
      const unit = parseUnit(read('systemd/icwatch.service'));
      expect([...unit.keys()]).to.have.members(['Unit', 'Service', 'Install']);
      const service = (key: string) => unitValues(unit, 'Service', key);
      expect(service('User')).to.deep.equal(['icwatch']);
      expect(service('NoNewPrivileges')).to.deep.equal(['yes']);
      expect(service('ProtectSystem')).to.deep.equal(['strict']);
      expect(service('PrivateTmp')).to.deep.equal(['yes']);
      expect(service('Restart')).to.deep.equal(['on-failure']);
      expect(service('RestartPreventExitStatus').join(' ').split(/\s+/)).to.include('78');
      expect(service('EnvironmentFile')).to.have.lengthOf(1);
      expect(service('ExecStart')[0]).to.match(/bin\/icwatch\.js run -c /);
      const stopSec = Number(/^(\d+)s?$/.exec(service('TimeoutStopSec')[0] ?? '')?.[1]);
      expect(stopSec * 1000).to.be.greaterThan(DEFAULTS.shutdown.timeoutMs);
    });

    it('Kubernetes: a Deployment with probes on /healthz and /readyz, resources and a securityContext; Service; ConfigMap; Secret', () => {
      const docs = K8S_FILES.flatMap((f) =>
        parseAllDocuments(read(`k8s/${f}`)).map((d) => {
          expect(d.errors, f).to.deep.equal([]);
          return d.toJSON() as { kind: string; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };
        }),
      );
      expect(docs.map((d) => d.kind)).to.include.members(['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget']);
      const deployment = docs.find((d) => d.kind === 'Deployment')!;
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      expect(container.livenessProbe.httpGet.path).to.equal('/healthz');
      expect(container.readinessProbe.httpGet.path).to.equal('/readyz');
      expect(container.resources.requests).to.include.keys('cpu', 'memory');
      expect(container.resources.limits).to.include.keys('cpu', 'memory');
      expect(container.securityContext).to.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(pod.securityContext.runAsNonRoot).to.equal(true);
      expect(pod.terminationGracePeriodSeconds * 1000).to.be.greaterThan(DEFAULTS.shutdown.timeoutMs);
      // The ConfigMap's file with the Secret's variables is a valid configuration, listening on every interface
      // with tokens; the tokens are required (fail closed: without them it does not start).
      const secret = docs.find((d) => d.kind === 'Secret')!.stringData!;
      const loaded = configMapConfig(docs, secret);
      expect(loaded.http.host).to.equal('0.0.0.0');
      expect(loaded.websocket.tokens.length).to.be.greaterThan(0);
      expect(() => configMapConfig(docs, {})).to.throw(/http\.host.*websocket\.tokens/);
      const tokens = container.env.find((e: { name: string }) => e.name === 'ICWATCH_WEBSOCKET_TOKENS');
      expect(tokens.valueFrom.secretKeyRef.optional ?? false, 'the tokens are not optional').to.equal(false);
    });

    it('Prometheus rules: each alert has an expression, a severity and a description; the ones operators need are there', () => {
      const all = rules();
      for (const r of all) {
        expect(r.expr, r.alert).to.be.a('string').and.not.empty;
        expect(r.labels.severity, r.alert).to.be.oneOf(['critical', 'warning', 'info']);
        expect(r.annotations.summary, r.alert).to.be.a('string').and.not.empty;
        expect(r.annotations.description, r.alert).to.be.a('string').and.not.empty;
      }
      const byMetric = (m: string) => all.some((r) => r.expr.includes(m));
      for (const m of ['icwatch_lag_seconds', 'icwatch_last_message_timestamp_seconds', 'icwatch_icws_session_up', 'icwatch_icws_reconnects_total', 'icwatch_redis_errors_total', 'icwatch_ws_disconnects_total', 'icwatch_leader', 'icwatch_leader_changes_total', 'icwatch_removals_held']) {
        expect(byMetric(m), `an alert on ${m}`).to.equal(true);
      }
    });

    it('Kubernetes high availability: two role all replicas, rolled one at a time, on different nodes, a PodDisruptionBudget keeping one', () => {
      const docs = K8S_FILES.flatMap((f) => parseAllDocuments(read(`k8s/${f}`)).map((d) => d.toJSON() as { kind: string; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> }));
      const deployment = docs.find((d) => d.kind === 'Deployment')!;
      const podLabels = deployment.spec.template.metadata.labels;
      expect(deployment.spec.replicas).to.be.at.least(2);
      expect(deployment.spec.strategy.type).to.equal('RollingUpdate');
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).to.equal(0);
      const env = new Map<string, any>(deployment.spec.template.spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
      expect(env.get('ICWATCH_ROLE')?.value).to.equal('all');
      // Each pod its own id in the lease, readable in logs and /readyz.
      expect(env.get('ICWATCH_HA_REPLICA_ID')?.valueFrom?.fieldRef?.fieldPath).to.equal('metadata.name');
      const anti = deployment.spec.template.spec.affinity.podAntiAffinity;
      const terms = [...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: { podAffinityTerm: unknown }) => t.podAffinityTerm)];
      expect(terms.some((t: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }) => t.topologyKey === 'kubernetes.io/hostname' && Object.entries(t.labelSelector.matchLabels).every(([k, v]) => podLabels[k] === v))).to.equal(true);
      const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget');
      expect(pdb, 'a PodDisruptionBudget').to.not.equal(undefined);
      expect(pdb!.spec.minAvailable).to.equal(1);
      for (const [k, v] of Object.entries(pdb!.spec.selector.matchLabels)) expect(podLabels[k], `the PodDisruptionBudget selects label ${k}`).to.equal(v);
      // The configuration both replicas load keeps high availability on.
      const loaded = configMapConfig(docs, docs.find((d) => d.kind === 'Secret')!.stringData!);
      expect(loaded.ha.enabled).to.equal(true);
      expect(loaded.role).to.equal('all');
    });

    it('Prometheus rules: every alert of every rule file has a promtool unit test showing it fire', () => {
      for (const file of RULE_FILES) {
        const tests = parseYaml(read(`prometheus/${testFileOf(file)}`)) as RuleTests;
        expect(tests.rule_files, testFileOf(file)).to.include(file);
        const firing = new Set(tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
        for (const r of rulesOf(file)) expect(firing.has(r.alert), `${r.alert} (${file}) has no test in which it fires`).to.equal(true);
      }
    });

    it('Grafana dashboard: panels for lag by stage, source lag, users, changes, session, reconnects, clients, slow consumers, pending, Redis, leader', () => {
      const exprs = dashboard().panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
      expect(exprs).to.match(/by \(le, stage\) \(rate\(icwatch_lag_seconds_bucket/);
      for (const m of ['icwatch_source_lag_seconds', 'icwatch_users', 'icwatch_changes_total', 'icwatch_icws_session_up', 'icwatch_icws_reconnects_total', 'icwatch_ws_clients', 'slow-consumer', 'icwatch_pending_messages', 'icwatch_redis_errors_total', 'icwatch_leader', 'icwatch_leader_changes_total']) {
        expect(exprs, m).to.include(m);
      }
    });
  });

  describe('against a running icwatch', () => {
    let redis: Redis;
    let prefix: string;
    let icwatch: IcwatchProcess;
    let scrape: string;

    before(async () => {
      redis = new Redis(SHARED_REDIS_URL);
      prefix = uniquePrefix('deploy');
      // role fanout needs no ICWS server; its /metrics is the same registry as any icwatch's.
      icwatch = await startIcwatch({ ICWATCH_ROLE: 'fanout', ICWATCH_REDIS_URL: SHARED_REDIS_URL, ICWATCH_REDIS_KEY_PREFIX: prefix });
      scrape = (await icwatch.get('/metrics')).text;
    });
    after(async () => {
      await icwatch?.stop();
      killAll();
      await dropPrefix(redis, prefix);
      await redis.quit();
    });

    /** Every series name the scrape can hold: histograms as _bucket/_sum/_count. */
    const exposed = () => {
      const names = new Set<string>();
      for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        names.add(name!);
        if (type === 'histogram' || type === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
      }
      return names;
    };

    it('exposes every metric of the contract', () => {
      for (const name of METRIC_NAMES) expect(exposed().has(name), name).to.equal(true);
    });

    it('exposes every metric the dashboard and the alert rules query', () => {
      const names = exposed();
      const used = [...dashboard().panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))), ...rules().flatMap((r) => metricsIn(r.expr))];
      expect(used.length).to.be.greaterThan(10);
      for (const m of used) if (!PROMETHEUS_OWN.has(m)) expect(names.has(m), `${m} is queried but not exposed`).to.equal(true);
    });

    it('passes promtool check metrics (for every icwatch_ metric; prom-client names its own nodejs_ gauges)', function () {
      if (!tool('promtool')) return this.skip(); // apt-get install prometheus
      const result = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
      const problems = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.trim());
      // prom-client's default gauges nodejs_active_*_total carry a _total suffix promtool dislikes; they are not ours to rename.
      // icwatch_icws_password_expiry_days is named in days by the contract (README "Metrics"): a password expires on a day.
      const ours = problems.filter(
        (l) =>
          !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l) &&
          l !== 'icwatch_icws_password_expiry_days use base unit "seconds" instead of "days"',
      );
      expect(ours, ours.join('\n')).to.deep.equal([]);
    });
  });

  it('sets only real configuration keys as environment variables (unit, Dockerfile, Deployment, Secret)', () => {
    const known = new Set(envKeys().map((k) => k.variable));
    const unit = parseUnit(read('systemd/icwatch.service'));
    const variables = [
      ...unitValues(unit, 'Service', 'Environment').map((v) => v.split('=')[0]!),
      // The EnvironmentFile example in the unit's header comment.
      ...[...read('systemd/icwatch.service').matchAll(/^#\s+(ICWATCH_[A-Z_]+)=/gm)].map((m) => m[1]!),
    ];
    // Dockerfile ENV lines (with continuation lines).
    variables.push(...[...read('docker/Dockerfile').matchAll(/^(?:ENV\s+|\s+)([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    for (const f of K8S_FILES) {
      for (const doc of parseAllDocuments(read(`k8s/${f}`)).map((d) => d.toJSON())) {
        if (doc.kind === 'Secret') variables.push(...Object.keys(doc.stringData ?? doc.data ?? {}));
        for (const c of doc.spec?.template?.spec?.containers ?? []) {
          variables.push(...(c.env ?? []).map((e: { name: string }) => e.name));
          for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) variables.push(e.valueFrom.secretKeyRef.key);
        }
      }
    }
    expect(variables.length).to.be.greaterThan(5);
    for (const v of variables) if (!OTHER_VARIABLES.has(v)) expect(known.has(v), `${v} is not a configuration key's variable`).to.equal(true);
  });

  it('passes promtool check rules', function () {
    if (!tool('promtool')) return this.skip(); // apt-get install prometheus
    const result = spawnSync('promtool', ['check', 'rules', ...RULE_FILES.map((f) => join(DEPLOY, 'prometheus', f))], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it('passes promtool test rules (unit tests of every alert)', function () {
    if (!tool('promtool')) return this.skip(); // apt-get install prometheus
    const result = spawnSync('promtool', ['test', 'rules', ...RULE_FILES.map(testFileOf)], { cwd: join(DEPLOY, 'prometheus'), encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout + result.stderr).to.include('SUCCESS');
  });

  it('passes systemd-analyze verify', function () {
    if (!tool('systemd-analyze')) return this.skip(); // apt-get install systemd
    const result = spawnSync('systemd-analyze', ['verify', join(DEPLOY, 'systemd/icwatch.service')], { encoding: 'utf8' });
    // Only complaints about the unit itself count (a container may lack units the host would have).
    const aboutUnit = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.includes('icwatch.service'));
    expect(aboutUnit, aboutUnit.join('\n')).to.deep.equal([]);
    expect(result.status, result.stderr).to.equal(0);
  });
});

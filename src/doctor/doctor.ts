/**
 * `icwatch doctor`: a preflight an operator runs before the first start and when something is wrong (PRODUCT §18,
 * README "Troubleshooting"). The checks run in order, each printed as it completes; a check whose premise failed is
 * printed as skipped, saying which. The result is true when none failed (warnings pass).
 */
import { isIP } from 'node:net';
import type { Config } from '../config/defaults.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { describeRedis, REDIS_CLIENT_DEFAULTS } from '../redis/client.js';
import { registerSecret } from '../log/redact.js';
import { checkHttpPort } from './http-port.js';
import { IcwsChecks } from './icws.js';
import { checkDns, checkTcp, checkTls, endpointOf } from './network.js';
import { RedisChecks } from './redis.js';
import { fail, pass, ReportPrinter, safely, skip, warn, type CheckResult } from './report.js';

export const CHECKS = [
  'configuration',
  'ICWS DNS',
  'ICWS TCP',
  'ICWS TLS',
  'ICWS login',
  'ICWS version',
  'subscription',
  'user statuses',
  'ICWS logout',
  'Redis',
  'Redis ACL',
  'mirror',
  'HTTP port',
] as const;
type CheckName = (typeof CHECKS)[number];

export interface DoctorOptions {
  /** The configuration file (-c), as `run` takes it. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  write(text: string): void;
  colour: boolean;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/i;

export async function runDoctor(o: DoctorOptions): Promise<boolean> {
  const printer = new ReportPrinter({ write: (text) => o.write(text), colour: o.colour, nameWidth: Math.max(...CHECKS.map((c) => c.length)) });
  const report = (name: CheckName, result: CheckResult) => printer.line(name, result);
  const skipAll = (names: readonly CheckName[], why: string) => names.forEach((n) => report(n, skip(why)));
  printer.note(`icwatch doctor: ${o.file ?? 'no file (defaults and environment)'}`);

  let config: Config;
  try {
    config = loadConfig({ file: o.file, env: o.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    report('configuration', fail(err.message, 'correct that key (config/default.yaml documents each, with its environment variable); then run doctor again'));
    skipAll(CHECKS.slice(1), 'the configuration did not load');
    printer.note(`\n${printer.summary()}`);
    return false;
  }
  // Masked in every line printed from here on, whatever a server echoes.
  registerSecret(config.icws.password, [config.icws.user, config.icws.applicationName]);
  for (const token of config.websocket.tokens) registerSecret(typeof token === 'string' ? token : token.token);
  registerSecret(config.redis.password);
  registerSecret(config.redis.sentinelPassword);
  report(
    'configuration',
    pass(
      `valid; role ${config.role}, ICWS ${config.icws.url} as "${config.icws.user}", Redis ${describeRedis(config.redis)}, HTTP ${config.http.host}:${config.http.port}`,
    ),
  );

  const icwsChecks = CHECKS.slice(1, 9);
  if (config.role === 'fanout') skipAll(icwsChecks, 'role fanout holds no ICWS session');
  else await checkIcws(config, report);

  const redis = new RedisChecks(config);
  try {
    const reachable = await safely(() => redis.reachable(REDIS_CLIENT_DEFAULTS.connectTimeoutMs));
    report('Redis', reachable);
    if (reachable.outcome === 'fail') skipAll(['Redis ACL', 'mirror'], 'Redis did not answer');
    else {
      report('Redis ACL', await safely(() => redis.permissions()));
      report('mirror', await safely(() => redis.mirror()));
    }
  } finally {
    await redis.close();
  }

  report('HTTP port', await safely(() => checkHttpPort(config.http)));
  printer.note(`\n${printer.summary()}`);
  return !printer.failed;
}

async function checkIcws(config: Config, report: (name: CheckName, result: CheckResult) => void): Promise<void> {
  const timeoutMs = config.icws.requestTimeoutMs;
  const endpoint = endpointOf(config.icws.url);
  const rest: CheckName[] = ['ICWS login', 'ICWS version', 'subscription', 'user statuses', 'ICWS logout'];
  const skipRest = (from: CheckName, why: string) => rest.slice(rest.indexOf(from)).forEach((n) => report(n, skip(why)));

  const dns = await checkDns(endpoint.host, timeoutMs);
  report('ICWS DNS', dns.result);
  if (!dns.addresses.length) {
    report('ICWS TCP', skip(`${endpoint.host} has no address`));
    report('ICWS TLS', skip(`${endpoint.host} has no address`));
    return skipRest('ICWS login', `${endpoint.host} has no address`);
  }
  const tcp = await checkTcp(dns.addresses, endpoint, timeoutMs);
  report('ICWS TCP', tcp.result);
  if (!tcp.address) {
    report('ICWS TLS', skip('no TCP connection'));
    return skipRest('ICWS login', 'no TCP connection');
  }
  if (endpoint.https) {
    const address = tcp.address;
    const tls = await safely(() => checkTls(address, endpoint, config.icws.tls, timeoutMs));
    report('ICWS TLS', tls);
    if (tls.outcome === 'fail') return skipRest('ICWS login', 'icwatch would refuse this TLS connection');
  } else if (LOOPBACK.test(endpoint.host) || (isIP(endpoint.host) === 4 && endpoint.host.startsWith('127.'))) {
    report('ICWS TLS', skip('icws.url is http:// to this machine'));
  } else {
    report(
      'ICWS TLS',
      warn(
        `icws.url is plain http:// to ${endpoint.host}: the password crosses the network unencrypted`,
        `use https://${endpoint.host}:8019/icws (and icws.tls.caFile)`,
      ),
    );
  }

  let icws: IcwsChecks;
  try {
    icws = new IcwsChecks(config);
  } catch (err) {
    // An unreadable icws.tls.caFile (checked above for https; an http:// URL still names it).
    report('ICWS login', fail((err as Error).message, 'point icws.tls.caFile at a readable PEM file, or set it to "" (the system CAs)'));
    return skipRest('ICWS version', 'no ICWS connection could be set up');
  }
  try {
    report('ICWS login', await safely(() => icws.login()));
    report('ICWS version', await safely(() => icws.version()));
    if (!icws.loggedIn) return skipRest('subscription', 'not logged in');
    report('subscription', await safely(() => icws.subscription()));
    report('user statuses', await safely(() => icws.statuses()));
    report('ICWS logout', await safely(() => icws.logout()));
  } finally {
    await icws.close();
  }
}

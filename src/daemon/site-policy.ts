/** The Origin and Host checks of every read (src/fanout/access.ts) from the http.* configuration. */
import type { Config } from '../config/defaults.js';
import type { SitePolicy } from '../fanout/access.js';
import { isLoopbackHost } from '../util/loopback.js';

export function sitePolicy(config: Config): SitePolicy {
  return { loopbackOnly: isLoopbackHost(config.http.host), allowedOrigins: config.http.allowedOrigins, allowedHosts: config.http.allowedHosts };
}

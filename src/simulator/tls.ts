/**
 * `--tls`: the simulator serves HTTPS as IC servers do on 8019, with a certificate from a private CA (docs/icws.md
 * "Real sites": sites commonly run self-signed or private-CA certificates, so icwatch takes icws.tls.caFile). A CA and
 * a server certificate for the listening host (and localhost, 127.0.0.1, ::1) are made at start with openssl in a
 * temporary folder; the CA's PEM file is what clients are given. Node's crypto cannot sign X.509 certificates.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SimulatorCertificates {
  /** PEM file of the private CA that signed the server's certificate (give it to icwatch as icws.tls.caFile). */
  caFile: string;
  key: Buffer;
  cert: Buffer;
  /** Removes the folder (the CA file with it). */
  remove(): Promise<void>;
}

/** Days the generated certificates are valid: a simulator does not run for longer. */
const VALID_DAYS = 30;

export async function makeCertificates(host: string): Promise<SimulatorCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'icwatch-sim-tls-'));
  const file = (name: string) => join(dir, name);
  const names = new Set(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1']);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      String(VALID_DAYS),
      '-subj',
      '/CN=icwatch simulator CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run('openssl', ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/CN=${host || 'localhost'}`]);
    await writeFile(
      file('server.ext'),
      `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${[...names].join(',')}\n`,
    );
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      String(VALID_DAYS),
      '-extfile',
      file('server.ext'),
    ]);
    const [key, cert] = await Promise.all([readFile(file('server.key')), readFile(file('server.pem'))]);
    // The CA's key is not needed any more: nothing else is ever signed with it.
    await rm(file('ca.key'));
    return { caFile: file('ca.pem'), key, cert, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(
      e.code === 'ENOENT'
        ? 'the simulator needs openssl for --tls (apt-get install openssl)'
        : `openssl failed making the simulator's certificates: ${e.stderr || e.message}`,
      { cause: err },
    );
  }
}

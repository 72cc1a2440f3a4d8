/** Certificates for the TLS checks, made with openssl in a temporary directory. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificates {
  /** The CA that signed the server's certificates, and another one. */
  goodCa: string;
  otherCa: string;
  /** The server's key, its certificate for localhost / 127.0.0.1 / ::1 (200 days), and one that expires in 10 days. */
  key: string;
  cert: string;
  shortCert: string;
}

export function makeCertificates(dir: string): Certificates {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const [name, cn] of [
    ['ca-good', 'doctor test CA good'],
    ['ca-other', 'doctor test CA other'],
  ]) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
  const sign = (out: string, days: number) =>
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca-good.pem',
      '-CAkey',
      'ca-good.key',
      '-CAcreateserial',
      '-days',
      String(days),
      '-extfile',
      'san.ext',
      '-out',
      out,
    );
  sign('server.pem', 200);
  sign('server-short.pem', 10);
  return {
    goodCa: join(dir, 'ca-good.pem'),
    otherCa: join(dir, 'ca-other.pem'),
    key: join(dir, 'server.key'),
    cert: join(dir, 'server.pem'),
    shortCert: join(dir, 'server-short.pem'),
  };
}

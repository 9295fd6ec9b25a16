// kwok-style PKI with openssl (controlplane.md §2.1): one CA, one "admin" cert that both serves the
// apiserver and authenticates every client (CN admin, O system:masters), and a separate key pair that signs
// service-account tokens. Everything lives in the run dir and is thrown away by `down`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeIps, type E2eConfig } from './config.js';
import { run } from './exec.js';

export interface Pki {
  caCert: string;
  caKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

export function pkiPaths(cfg: E2eConfig): Pki {
  const d = cfg.paths.pki;
  return {
    caCert: join(d, 'ca.crt'),
    caKey: join(d, 'ca.key'),
    adminCert: join(d, 'admin.crt'),
    adminKey: join(d, 'admin.key'),
    saKey: join(d, 'sa.key'),
    saPub: join(d, 'sa.pub'),
  };
}

export function serverSans(cfg: E2eConfig): string[] {
  const d = cfg.net.clusterDomain;
  return [
    'IP:127.0.0.1',
    `IP:${cfg.net.gatewayIp}`,
    `IP:${cfg.net.kubernetesServiceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    `DNS:kubernetes.default.svc.${d}`,
    // The same certificate serves the node agent's kubelet API on every node address.
    ...nodeIps(cfg).map((ip) => `IP:${ip}`),
  ];
}

export async function createPki(cfg: E2eConfig): Promise<Pki> {
  const p = pkiPaths(cfg);
  mkdirSync(cfg.paths.pki, { recursive: true, mode: 0o700 });
  const csr = join(cfg.paths.pki, 'admin.csr');
  const ext = join(cfg.paths.pki, 'admin.ext');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '30',
    '-subj',
    '/CN=cairn-e2e-ca',
    '-keyout',
    p.caKey,
    '-out',
    p.caCert,
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/O=system:masters/CN=admin',
    '-keyout',
    p.adminKey,
    '-out',
    csr,
  ]);
  writeFileSync(
    ext,
    `subjectAltName=${serverSans(cfg).join(',')}\n` +
      'extendedKeyUsage=serverAuth,clientAuth\n' +
      'keyUsage=critical,digitalSignature,keyEncipherment\n',
  );
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    p.caCert,
    '-CAkey',
    p.caKey,
    '-CAcreateserial',
    '-days',
    '30',
    '-extfile',
    ext,
    '-out',
    p.adminCert,
  ]);
  await run('openssl', ['genrsa', '-out', p.saKey, '2048']);
  await run('openssl', ['rsa', '-in', p.saKey, '-pubout', '-out', p.saPub]);
  return p;
}

/**
 * The admin kubeconfig, with the certificates embedded so it stands alone (the agent and CoreDNS read it
 * too). The server is the gateway address: it is reachable from the env netns and from every pod netns.
 */
export function writeKubeconfig(cfg: E2eConfig, p: Pki): string {
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  const server = `https://${cfg.net.gatewayIp}:${cfg.ports.apiserver}`;
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: cairn-e2e',
    '    cluster:',
    `      server: ${server}`,
    `      certificate-authority-data: ${b64(p.caCert)}`,
    'users:',
    '  - name: admin',
    '    user:',
    `      client-certificate-data: ${b64(p.adminCert)}`,
    `      client-key-data: ${b64(p.adminKey)}`,
    'contexts:',
    '  - name: cairn-e2e',
    '    context:',
    '      cluster: cairn-e2e',
    '      user: admin',
    'current-context: cairn-e2e',
    '',
  ].join('\n');
  writeFileSync(cfg.paths.kubeconfig, text, { mode: 0o600 });
  return cfg.paths.kubeconfig;
}

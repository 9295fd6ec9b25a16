// The environment's own part of the e2e suite: the control plane answers, and the two Services the
// environment sets up (kubernetes, kube-dns) work through kube-proxy's rules from inside the env netns.
// Runs under `npm run test:e2e`, which starts it inside the netns with the variables read below.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { e2eEnv as env, kubectl } from '../framework/kube.js';

/** The version up() recorded from current.json: what both kubectl and the apiserver must report. */
function expectedVersion(): string {
  const state = JSON.parse(readFileSync(join(env('CAIRN_E2E_RUN_DIR'), 'state.json'), 'utf8')) as {
    kubernetesVersion?: string;
  };
  assert.ok(state.kubernetesVersion, 'state.json records the Kubernetes version');
  return state.kubernetesVersion;
}

interface KubeconfigUser {
  'client-certificate-data': string;
  'client-key-data': string;
}

function adminTls(): { ca: Buffer; cert: Buffer; key: Buffer } {
  const kc = parse(readFileSync(env('KUBECONFIG'), 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: KubeconfigUser }[];
  };
  const cluster = kc.clusters[0]?.cluster;
  const user = kc.users[0]?.user;
  assert.ok(cluster && user, 'the admin kubeconfig has a cluster and a user');
  const b = (s: string): Buffer => Buffer.from(s, 'base64');
  return {
    ca: b(cluster['certificate-authority-data']),
    cert: b(user['client-certificate-data']),
    key: b(user['client-key-data']),
  };
}

describe('control plane', () => {
  it('kubectl and the apiserver report the built version', async () => {
    const want = expectedVersion();
    assert.match(want, /^v1\.36\./);
    const out = JSON.parse(await kubectl(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    assert.equal(out.clientVersion.gitVersion, want);
    assert.equal(out.serverVersion.gitVersion, want);
  });

  it('the apiserver is ready', async () => {
    assert.equal((await kubectl(['get', '--raw', '/readyz'])).trim(), 'ok');
  });

  it('the kubernetes Service (10.96.0.1:443) reaches the apiserver through kube-proxy', async () => {
    const svc = JSON.parse(
      await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'json']),
    ) as {
      spec: { clusterIP: string };
    };
    assert.equal(svc.spec.clusterIP, '10.96.0.1');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '10.96.0.1', port: 443, path: '/version', ...adminTls(), timeout: 10_000 },
        (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString()));
          res.on('end', () =>
            res.statusCode === 200 ? resolve(data) : reject(new Error(`HTTP ${res.statusCode}: ${data}`)),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
    assert.equal((JSON.parse(body) as { gitVersion: string }).gitVersion, expectedVersion());
  });

  it('kube-dns (10.96.0.10) resolves kubernetes.default.svc.cluster.local to 10.96.0.1', async () => {
    const resolver = new Resolver({ timeout: 2_000, tries: 3 });
    resolver.setServers(['10.96.0.10']);
    assert.deepEqual(await resolver.resolve4('kubernetes.default.svc.cluster.local'), ['10.96.0.1']);
  });
});

// Container probes and lifecycle handlers as the kubelet runs them: httpGet and tcpSocket against the
// pod's address, grpc through the standard grpc.health.v1 Check, and exec inside the container's
// namespaces and root (nsenter). Each attempt is bounded by the probe's timeoutSeconds.
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { V1Container, V1ContainerPort, V1Probe } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { NSENTER } from './exec.js';

export interface ProbeResult {
  ok: boolean;
  /** Why it failed, in the words `kubectl describe` shows ("HTTP probe failed with statuscode: 503"). */
  message: string;
}

export interface ProbeTarget {
  podIP: string;
  container: V1Container;
  /** The container's main process, for exec handlers; undefined when it is not running. */
  pid: number | undefined;
  env: Map<string, string>;
}

type Handler = Pick<V1Probe, 'httpGet' | 'tcpSocket' | 'grpc' | 'exec'>;

/** Output kept from an exec probe for its failure message (the kubelet keeps 10 KiB). */
const EXEC_OUTPUT_MAX_BYTES = 10 * 1024;

export async function runHandler(
  handler: Handler,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeResult> {
  try {
    if (handler.exec !== undefined) return await execProbe(handler.exec.command ?? [], target, timeoutMs);
    if (handler.httpGet !== undefined) {
      const h = handler.httpGet;
      const port = resolvePort(h.port, target.container.ports);
      const headers = Object.fromEntries((h.httpHeaders ?? []).map((x) => [x.name, x.value]));
      return await httpProbe(
        h.scheme === 'HTTPS',
        h.host ?? target.podIP,
        port,
        h.path ?? '/',
        headers,
        timeoutMs,
      );
    }
    if (handler.tcpSocket !== undefined) {
      const port = resolvePort(handler.tcpSocket.port, target.container.ports);
      return await tcpProbe(handler.tcpSocket.host ?? target.podIP, port, timeoutMs);
    }
    if (handler.grpc !== undefined) {
      return await grpcProbe(target.podIP, handler.grpc.port, handler.grpc.service ?? '', timeoutMs);
    }
    return { ok: false, message: 'probe has no handler' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

function resolvePort(port: number | string, ports: V1ContainerPort[] | undefined): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = (ports ?? []).find((p) => p.name === port);
  if (named === undefined) throw new Error(`port "${port}" is not a named port of the container`);
  return named.containerPort;
}

function httpProbe(
  https: boolean,
  host: string,
  port: number,
  path: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const request = https ? httpsRequest : httpRequest;
    const req = request(
      {
        host,
        port,
        path,
        method: 'GET',
        headers: { 'User-Agent': 'kube-probe/1.36', ...headers },
        timeout: timeoutMs,
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(
          code >= 200 && code < 400
            ? { ok: true, message: '' }
            : { ok: false, message: `HTTP probe failed with statuscode: ${code}` },
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(
        new Error(`Get "${https ? 'https' : 'http'}://${host}:${port}${path}": context deadline exceeded`),
      ),
    );
    req.on('error', (err) => resolve({ ok: false, message: err.message }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.on('connect', () => {
      socket.destroy();
      resolve({ ok: true, message: '' });
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    socket.on('error', (err) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

const HealthClient = grpc.makeClientConstructor(healthService, 'grpc.health.v1.Health');

function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = new HealthClient(`${host}:${port}`, grpc.credentials.createInsecure());
    const deadline = new Date(Date.now() + timeoutMs);
    const check = client['Check'] as unknown as (
      req: { service: string },
      options: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: { status?: string | number }) => void,
    ) => void;
    check.call(client, { service }, { deadline }, (err, res) => {
      client.close();
      if (err !== null) {
        resolve({
          ok: false,
          message: `failed to connect service "${host}:${port}" within ${timeoutMs / 1000}s: ${err.details}`,
        });
        return;
      }
      const status = res?.status;
      resolve(
        status === 'SERVING' || status === 1
          ? { ok: true, message: '' }
          : { ok: false, message: `service unhealthy (responded with "${String(status)}")` },
      );
    });
  });
}

function execProbe(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  if (target.pid === undefined) return Promise.resolve({ ok: false, message: 'container is not running' });
  if (command.length === 0) return Promise.resolve({ ok: false, message: 'exec probe has no command' });
  // --root/--wd: the container's chroot and working directory; -m -u -n: its mounts, hostname, network.
  const args = ['-t', String(target.pid), '-m', '-u', '-n', '-r', '-w', '--', ...command];
  return new Promise((resolve) => {
    execFile(
      NSENTER,
      args,
      {
        env: Object.fromEntries(target.env),
        timeout: timeoutMs,
        maxBuffer: EXEC_OUTPUT_MAX_BYTES,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ ok: true, message: '' });
          return;
        }
        const output = `${stdout}${stderr}`.trim().slice(0, EXEC_OUTPUT_MAX_BYTES);
        if (err.killed) resolve({ ok: false, message: `command timed out after ${timeoutMs / 1000}s` });
        else
          resolve({ ok: false, message: output === '' ? `command exited with ${String(err.code)}` : output });
      },
    );
  });
}

// The load: --conns gRPC channels, --clients workers sharing them round-robin, each with one request in
// flight (it sends the next when the previous answered), until --total requests were issued. Every request
// has a deadline, so a server that stops answering ends the run with deadline errors instead of a hang.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { KVClient } from '../proto/gen/etcdserverpb/rpc.js';
import { putRequest, rangeRequest } from '../proto/messages.js';
import { putKey, putValue } from './keys.js';
import type { BenchOptions } from './options.js';
import type { RunResult } from './report.js';

/** The endpoint did not answer the probe sent before the load: nothing was measured. */
export class EndpointUnreachableError extends Error {}

type Call = (
  client: KVClient,
  index: number,
  deadline: Date,
  done: (err: ServiceError | null) => void,
) => void;

function makeCall(opts: BenchOptions, random: () => number): Call {
  if (opts.command === 'put') {
    const value = putValue(opts.valSize, random);
    return (client, index, deadline, done) => {
      const key = putKey(index, opts.keySize, opts.keySpaceSize, opts.sequentialKeys, random);
      client.put(putRequest({ key, value }), new Metadata(), { deadline }, (err) => done(err));
    };
  }
  const request = rangeRequest({
    key: Buffer.from(opts.key),
    rangeEnd: Buffer.from(opts.end),
    serializable: opts.consistency === 's',
  });
  return (client, _index, deadline, done) =>
    client.range(request, new Metadata(), { deadline }, (err) => done(err));
}

function openChannels(opts: BenchOptions): KVClient[] {
  return Array.from(
    { length: opts.conns },
    (_, i) =>
      // A local subchannel pool: otherwise grpc-js shares one TCP connection among all clients of a target,
      // and --conns would not mean separate connections as in etcd's tool.
      new KVClient(opts.endpoints[i % opts.endpoints.length] ?? '', credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
}

/** One serializable Range per channel, so an unreachable endpoint fails before the clock starts. */
async function probe(channels: readonly KVClient[], opts: BenchOptions): Promise<void> {
  await Promise.all(
    channels.map(
      (client) =>
        new Promise<void>((resolve, reject) => {
          const deadline = new Date(Date.now() + opts.requestTimeoutMs);
          const request = rangeRequest({ key: Buffer.from('cairn-bench-probe'), serializable: true });
          client.range(request, new Metadata(), { deadline }, (err) => {
            if (err === null) resolve();
            else reject(new EndpointUnreachableError(`${client.getChannel().getTarget()}: ${err.message}`));
          });
        }),
    ),
  );
}

export async function runBench(opts: BenchOptions, random: () => number = Math.random): Promise<RunResult> {
  const channels = openChannels(opts);
  try {
    await probe(channels, opts);
    const call = makeCall(opts, random);
    const latenciesSec: number[] = [];
    const errors = new Map<string, number>();
    let issued = 0;
    const worker = async (w: number): Promise<void> => {
      const client = channels[w % channels.length];
      if (client === undefined) return;
      // Bounded: each turn takes one of the --total request numbers.
      while (issued < opts.total) {
        const index = issued++;
        const started = performance.now();
        const err = await new Promise<ServiceError | null>((resolve) =>
          call(client, index, new Date(Date.now() + opts.requestTimeoutMs), resolve),
        );
        if (err === null) latenciesSec.push((performance.now() - started) / 1000);
        else errors.set(err.message, (errors.get(err.message) ?? 0) + 1);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: opts.clients }, (_, w) => worker(w)));
    return { latenciesSec, errors, totalSec: (performance.now() - t0) / 1000 };
  } finally {
    for (const c of channels) c.close();
  }
}

// Worker threads for init({ threads: n }): n − 1 workers, each an instance of the threads build
// (build/out/wasmgrad.threads.wasm) on the main instance's shared memory, compute blocks of the
// big packed products beside the calling thread (assembly/ops/matmul.ts). Results are bit-identical
// for every thread count.

import { spawnWorker, type WorkerHandle } from './platform/spawn-worker.js';

/** Why threads cannot run here, or undefined when they can. */
export function threadsUnavailable(): string | undefined {
  const g = globalThis as any;
  if (g.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd / Cloudflare Workers has no threads';
  if (typeof g.SharedArrayBuffer !== 'function') {
    return 'there is no SharedArrayBuffer (a browser page must be cross-origin isolated: serve it with ' +
      "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp')";
  }
  if (g.crossOriginIsolated === false) {
    return "the page is not cross-origin isolated (serve it with 'Cross-Origin-Opener-Policy: same-origin' and " +
      "'Cross-Origin-Embedder-Policy: require-corp')";
  }
  const isServer = typeof g.process?.versions?.node === 'string'; // Node, Deno, Bun: node:worker_threads
  if (typeof g.Worker !== 'function' && !isServer) return 'this runtime has no Worker';
  return undefined;
}

/** Starts `count` workers on `memory`, slot i for worker i; resolves when all are instantiated. */
export async function startWorkers(module: WebAssembly.Module, memory: WebAssembly.Memory, count: number,
                                   script: URL): Promise<WorkerHandle[]> {
  const started: WorkerHandle[] = [];
  try {
    for (let slot = 0; slot < count; slot++) {
      const w = await spawnWorker(script);
      started.push(w);
      w.post({ module, memory, slot });
    }
    for (const w of started) {
      const reply = await w.ready;
      if (reply?.error !== undefined) throw new Error(reply.error);
    }
  } catch (e) {
    for (const w of started) w.terminate();
    throw e;
  }
  // Idle workers wait in memory.atomic.wait; they must not keep the process alive.
  for (const w of started) w.unref();
  return started;
}

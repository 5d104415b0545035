// Starting a worker thread in Node, Deno and Bun, all through node:worker_threads: its workers
// can be unref'd, so an idle worker never keeps a program from exiting. The browser bundles
// (build/build.mjs) replace this file with spawn-worker.browser.ts (the web Worker).

import type { WorkerHandle } from './web-worker.js';

export type { WorkerHandle };

export async function spawnWorker(url: URL): Promise<WorkerHandle> {
  const { Worker } = await import('node:worker_threads');
  // No inherited flags: some (--input-type, --eval) are not valid for a worker's script file.
  const w = new Worker(url, { execArgv: [] });
  const ready = new Promise<any>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the worker exited with code ${code} before it started`)));
  });
  return { post: (m) => w.postMessage(m), ready, unref: () => w.unref(), terminate: () => void w.terminate() };
}

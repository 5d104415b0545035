// The browser bundles' stand-in for spawn-worker.ts: the web Worker only.

import { webWorker, type WorkerHandle } from './web-worker.js';

export type { WorkerHandle };

export async function spawnWorker(url: URL): Promise<WorkerHandle> {
  if (typeof (globalThis as any).Worker !== 'function') throw new Error('this runtime has no Worker');
  return webWorker(url);
}

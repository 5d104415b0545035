// A browser's web Worker behind the small interface src/threads.ts needs.

export interface WorkerHandle {
  post(message: unknown): void;
  /** the worker's first message (or its failure to start) */
  readonly ready: Promise<any>;
  /** lets the process exit while the worker waits for work (where the runtime has that notion) */
  unref(): void;
  terminate(): void;
}

export function webWorker(url: URL): WorkerHandle {
  const w = new (globalThis as any).Worker(url, { type: 'module' });
  const ready = new Promise<any>((resolve, reject) => {
    w.addEventListener('message', (e: MessageEvent) => resolve(e.data), { once: true });
    w.addEventListener('error', (e: ErrorEvent) => reject(new Error(e.message ?? 'the worker failed to start')), { once: true });
  });
  return {
    post: (m) => w.postMessage(m),
    ready,
    unref: () => { if (typeof w.unref === 'function') w.unref(); },
    terminate: () => w.terminate(),
  };
}

// A wasmgrad worker thread (init({ threads })), shipped as dist/wasmgrad.worker.js. It receives
// the threads build and the shared memory, instantiates the module on that memory, says it is
// ready, then claims blocks of the products the main thread posts, with scratch block number
// `slot` as its own (matmulWorker in assembly/ops/matmul.ts, which never returns: the thread ends
// with the program). It imports nothing of wasmgrad.

interface Start { module: WebAssembly.Module; memory: WebAssembly.Memory; slot: number }

type Reply = (message: unknown) => void;

async function start(msg: Start, reply: Reply): Promise<void> {
  let exports: { matmulWorker(slot: number): void; matmulWorkerDeadAddress(): number };
  try {
    const instance = await WebAssembly.instantiate(msg.module, {
      env: { memory: msg.memory },
      host: { customRule: () => 1 }, // never called: workers run only matmul jobs
    });
    exports = instance.exports as unknown as typeof exports;
  } catch (e) {
    reply({ error: (e as Error).message });
    return;
  }
  reply({ ready: true });
  // Let the reply go out before this thread blocks in the job loop.
  setTimeout(() => {
    try {
      exports.matmulWorker(msg.slot);
    } catch (e) {
      // Tell the main thread, which may be waiting for a chunk this worker held, to redo the product.
      Atomics.store(new Int32Array(msg.memory.buffer), exports.matmulWorkerDeadAddress() >>> 2, 1);
      reply({ error: (e as Error).message });
    }
  }, 0);
}

const g = globalThis as any;
if (typeof g.process?.versions?.node === 'string') {
  // Node, Deno and Bun start workers with node:worker_threads (src/platform/spawn-worker.ts).
  const { parentPort } = await import('node:worker_threads');
  parentPort!.once('message', (m: Start) => { void start(m, (r) => parentPort!.postMessage(r)); });
} else {
  // A browser's web Worker.
  g.addEventListener('message', (e: MessageEvent) => { void start(e.data as Start, (m) => g.postMessage(m)); }, { once: true });
}

export {};

// benchmark.js wrapper: one measurement = warm-up, calibrated cycles, a sample of per-op times.
// Synchronous peers run as plain functions; lazy peers (jax-js) run deferred so each op is
// awaited to completion (blockUntilReady) before the next one starts.

import Benchmark from 'benchmark';

// Call fn through a closure instead of benchmark.js's decompile-and-inline trick: our test
// functions close over their tensors, which an inlined copy of their source could not see.
Benchmark.support.decompilation = false;

/** Time settings: the full run, and --quick (smaller samples, for a smoke run). */
export const PROFILES = {
  full: { warmup: 0.3, maxTime: 1, minSamples: 5 },
  quick: { warmup: 0.1, maxTime: 0.2, minSamples: 2 },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Measures `run` (sync, or returning a Promise when `deferred`). Returns seconds per op:
 * { median, min, mean, rme (percent), samples }.
 */
export async function measure(name, run, { deferred = false, profile = PROFILES.full } = {}) {
  // Warm-up: V8 first runs wasm on its baseline compiler (Liftoff) and JS in the interpreter,
  // and tiers up hot code in the background; benchmark.js's own first cycles would catch that.
  const { warmup, maxTime, minSamples } = profile;
  const until = performance.now() + warmup * 1e3;
  do { if (deferred) await run(); else run(); } while (performance.now() < until);
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      maxTime,
      minSamples,
      defer: deferred,
      fn: deferred
        ? (d) => { run().then(() => d.resolve(), (e) => { bench.error = e; bench.abort(); d.resolve(); }); }
        : run,
      onComplete() {
        if (bench.error) { reject(bench.error); return; }
        const s = bench.stats;
        resolve({ median: median(s.sample), min: Math.min(...s.sample), mean: s.mean, rme: s.rme, samples: s.sample.length });
      },
      onError() { reject(bench.error); },
    });
    bench.run({ async: deferred });
  });
}

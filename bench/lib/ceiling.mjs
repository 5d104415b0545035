// The machine's own ceiling as seen from wasm SIMD (no relaxed SIMD, so no fused multiply-add):
// - arithmetic: a register-blocked loop of independent f32x4 (and f64x2) multiply-then-add
//   chains, enough of them to hide the latency, so it runs at the issue rate of the FP pipes;
// - memory: a v128 load+store copy loop and a v128 load-only loop, over 64 MiB buffers (DRAM)
//   and over 4 MiB buffers (the size of one 1M-float array: cache-resident like the cases).
// The module is written in WAT and compiled with binaryen at run time.

import binaryen from 'binaryen';
import { measure } from './harness.mjs';

const CHAINS = 12;   // 12 accumulators + 2 constants fit the 16 SIMD registers of x86-64
const UNROLL = 4;
const MiB = 1 << 20;
const BIG = 64 * MiB;

function peakFunc(name, lanes, t) {
  const accs = Array.from({ length: CHAINS }, (_, k) => `$a${k}`);
  const step = accs.map((a) => `(local.set ${a} (${t}.add (${t}.mul (local.get ${a}) (local.get $m)) (local.get $c)))`).join('\n');
  const init = accs.map((a, k) => `(local.set ${a} (${t}.splat (${t.slice(0, 3)}.const ${k + 1})))`).join('\n');
  const sum = accs.slice(1).reduce((e, a) => `(${t}.add ${e} (local.get ${a}))`, `(local.get ${accs[0]})`);
  const scalar = t.slice(0, 3);
  return `
  (func (export "${name}") (param $iters i32) (result ${scalar})
    (local $m v128) (local $c v128) ${accs.map((a) => `(local ${a} v128)`).join(' ')}
    ;; x -> x*0.5 + 1 converges to 2: no overflow, no denormals
    (local.set $m (${t}.splat (${scalar}.const 0.5)))
    (local.set $c (${t}.splat (${scalar}.const 1)))
    ${init}
    (loop $L
      ${Array(UNROLL).fill(step).join('\n')}
      (br_if $L (local.tee $iters (i32.sub (local.get $iters) (i32.const 1)))))
    (${t}.extract_lane 0 ${sum}))`;
}

const WAT = `
(module
  (memory (export "memory") ${(2 * BIG) / 65536 + 1})
  ${peakFunc('peak_f32', 4, 'f32x4')}
  ${peakFunc('peak_f64', 2, 'f64x2')}
  ;; dst[0..bytes) = src[0..bytes), 64 bytes per iteration
  (func (export "copy") (param $src i32) (param $dst i32) (param $bytes i32)
    (local $i i32)
    (loop $L
      (v128.store offset=0 (i32.add (local.get $dst) (local.get $i)) (v128.load offset=0 (i32.add (local.get $src) (local.get $i))))
      (v128.store offset=16 (i32.add (local.get $dst) (local.get $i)) (v128.load offset=16 (i32.add (local.get $src) (local.get $i))))
      (v128.store offset=32 (i32.add (local.get $dst) (local.get $i)) (v128.load offset=32 (i32.add (local.get $src) (local.get $i))))
      (v128.store offset=48 (i32.add (local.get $dst) (local.get $i)) (v128.load offset=48 (i32.add (local.get $src) (local.get $i))))
      (br_if $L (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 64))) (local.get $bytes)))))
  ;; xor of every v128 in src[0..bytes), 4 independent accumulators
  (func (export "read") (param $src i32) (param $bytes i32) (result i32)
    (local $i i32) (local $p i32) (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (loop $L
      (local.set $p (i32.add (local.get $src) (local.get $i)))
      (local.set $x0 (v128.xor (local.get $x0) (v128.load offset=0 (local.get $p))))
      (local.set $x1 (v128.xor (local.get $x1) (v128.load offset=16 (local.get $p))))
      (local.set $x2 (v128.xor (local.get $x2) (v128.load offset=32 (local.get $p))))
      (local.set $x3 (v128.xor (local.get $x3) (v128.load offset=48 (local.get $p))))
      (br_if $L (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 64))) (local.get $bytes))))
    (i32x4.extract_lane 0 (v128.xor (v128.xor (local.get $x0) (local.get $x1)) (v128.xor (local.get $x2) (local.get $x3))))))
`;

function compile() {
  const mod = binaryen.parseText(WAT);
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
  if (!mod.validate()) throw new Error('ceiling: the WAT module does not validate');
  const bytes = mod.emitBinary();
  mod.dispose();
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
}

/**
 * Measures the ceilings; returns figures in GFLOPS and GB/s (bytes counted as the loop moves
 * them: read + written for copy, read for read). A ceiling is the best sample, not the median.
 */
export async function measureCeiling(profile) {
  const w = compile();
  new Uint8Array(w.memory.buffer).fill(1);   // touch every page before timing
  const iters = 1 << 16;
  const flops32 = iters * UNROLL * CHAINS * 4 * 2;
  const flops64 = iters * UNROLL * CHAINS * 2 * 2;
  const f32 = await measure('ceiling f32x4', () => w.peak_f32(iters), { profile });
  const f64 = await measure('ceiling f64x2', () => w.peak_f64(iters), { profile });
  const copyBig = await measure('copy 64 MiB', () => w.copy(0, BIG, BIG), { profile });
  const readBig = await measure('read 64 MiB', () => w.read(0, BIG), { profile });
  const small = 4 * MiB;
  const copySmall = await measure('copy 4 MiB', () => w.copy(0, BIG, small), { profile });
  const readSmall = await measure('read 4 MiB', () => w.read(0, small), { profile });
  return {
    f32GFLOPS: flops32 / f32.min / 1e9,
    f64GFLOPS: flops64 / f64.min / 1e9,
    copyDramGBs: (2 * BIG) / copyBig.min / 1e9,
    readDramGBs: BIG / readBig.min / 1e9,
    copyCacheGBs: (2 * small) / copySmall.min / 1e9,
    readCacheGBs: small / readSmall.min / 1e9,
  };
}

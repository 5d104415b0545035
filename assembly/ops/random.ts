// Seeded pseudo-random numbers in wasm: xoshiro128** (Blackman & Vigna) seeded through
// SplitMix64, so the same seed gives the same bits on every engine. Random tensors are
// constants: nothing here is recorded on the tape.
//
// float32 uniforms take 24 random bits and float64 uniforms 53, so both are exact multiples of
// 2^-24 / 2^-53 in [0, 1). Normals use Box–Muller on 53-bit uniforms with AssemblyScript's own
// log/cos/sin/sqrt (pure wasm), so a float32 normal is the float64 one rounded.

import { DType, Op } from "../core/vocabulary";
import { dataOf, numelOf, dtypeOf } from "../core/tensor";
import { captureBegin, captureAttr } from "../engine/accelerate";

// PyTorch's default CPU seed: a program that never seeds still gets a fixed stream.
const DEFAULT_SEED: u64 = 67280421310721;

let s0: u32 = 0, s1: u32 = 0, s2: u32 = 0, s3: u32 = 0;
let seeded = false;

@inline function splitmixOutput(z: u64): u64 {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

function seedState(x: u64): void {
  const a = splitmixOutput(x + 0x9e3779b97f4a7c15);
  const b = splitmixOutput(x + 0x3c6ef372fe94f82a); // the next SplitMix64 step
  s0 = <u32>a; s1 = <u32>(a >> 32); s2 = <u32>b; s3 = <u32>(b >> 32);
  if ((s0 | s1 | s2 | s3) == 0) s0 = 1; // xoshiro's one forbidden state
  seeded = true;
}

/** Seeds the global generator; n is an integer (negative ones wrap to 64 bits). */
export function seed(n: f64): void { seedState(<u64><i64>n); }

/** The next 32 random bits (xoshiro128**). */
function nextU32(): u32 {
  if (!seeded) seedState(DEFAULT_SEED);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

/** Uniform in [0, 1) from 24 bits (a float32 exactly). */
@inline function uniform24(): f64 { return <f64>(nextU32() >>> 8) * 5.9604644775390625e-8; }

/** Uniform in [0, 1) from 53 bits. */
@inline function uniform53(): f64 {
  const hi = <f64>(nextU32() >>> 5), lo = <f64>(nextU32() >>> 6);
  return (hi * 67108864.0 + lo) * 1.1102230246251565e-16;
}

export const KIND_UNIFORM = 0;
export const KIND_NORMAL = 1;

/** lo + (hi - lo)·u, one draw per element: 24 bits for float32, 53 for float64. */
function fillUniform(t: i32, dtype: i32, lo: f64, hi: f64): void {
  const n = numelOf(t), p = dataOf(t);
  const width = hi - lo;
  if (dtype == DType.float32) {
    for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>(lo + width * uniform24()));
  } else {
    for (let i = 0; i < n; i++) store<f64>(p + (<usize>i << 3), lo + width * uniform53());
  }
}

/** mean + std·z, z from Box–Muller: each pair of uniforms gives two normals (cos, then sin). */
function fillNormal(t: i32, dtype: i32, mean: f64, std: f64): void {
  const n = numelOf(t), p = dataOf(t);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1.0 - uniform53(); // in (0, 1], so the log stays finite
    const u2 = uniform53();
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const theta = 6.283185307179586 * u2;
    const z0 = mean + std * (r * Math.cos(theta));
    const z1 = mean + std * (r * Math.sin(theta));
    if (dtype == DType.float32) {
      store<f32>(p + (<usize>i << 2), <f32>z0);
      if (i + 1 < n) store<f32>(p + (<usize>(i + 1) << 2), <f32>z1);
    } else {
      store<f64>(p + (<usize>i << 3), z0);
      if (i + 1 < n) store<f64>(p + (<usize>(i + 1) << 3), z1);
    }
  }
}

/**
 * Fills float tensor t with random values: uniform in [p, q) (KIND_UNIFORM) or normal with
 * mean p and std q (KIND_NORMAL). With `useSeed` the values come from a generator seeded with
 * `seedValue` and the global stream is left where it was (like passing a torch.Generator).
 */
export function randFill(t: i32, kind: i32, p: f64, q: f64, useSeed: i32, seedValue: f64): void {
  const dtype = dtypeOf(t);
  // A program draws again on every replay, advancing the generator as the eager call would.
  if (captureBegin(Op.randFill, t)) {
    captureAttr(<f64>kind); captureAttr(p); captureAttr(q); captureAttr(<f64>useSeed); captureAttr(seedValue);
  }
  if (!seeded) seedState(DEFAULT_SEED);
  const a = s0, b = s1, c = s2, d = s3;
  if (useSeed) seed(seedValue);
  if (kind == KIND_UNIFORM) fillUniform(t, dtype, p, q);
  else fillNormal(t, dtype, p, q);
  if (useSeed) { s0 = a; s1 = b; s2 = c; s3 = d; }
}

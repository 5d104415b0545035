// A program made only of scalar instructions (assembly/engine/accelerate.ts buildInstructions) compiled
// to a small wasm function of its own: each instruction's value stays in a local for the
// instructions that read it, so a chain of scalars does not wait on a store and a reload, and no
// instruction is dispatched. It performs the interpreter's operations in the same order — the
// same wasm arithmetic inline, or the interpreter's own scalar functions imported — and stores
// every result where the interpreter would, so replays give the same bits. Where wasm cannot be
// compiled at run time (a content security policy, an edge runtime) the interpreter replays.

import { wasm, views, I32 } from './runtime.js';
import { Op } from '../assembly/core/vocabulary.js';
import { S_UN, S_FILL, S_COPY, S_F32, S_GENERIC, INSTR_WORDS } from '../assembly/core/abi.js';

// The scalar codes of assembly/engine/accelerate.ts.

const F64 = 0x7c, F32 = 0x7d, I32T = 0x7f;

function uleb(out: number[], v: number): void {
  do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; out.push(b); } while (v !== 0);
}
function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const b = v & 0x7f; v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}
function section(out: number[], id: number, body: number[]): void { out.push(id); uleb(out, body.length); out.push(...body); }
function name(out: number[], s: string): void { uleb(out, s.length); for (const c of s) out.push(c.charCodeAt(0)); }

const isShared = (memory: WebAssembly.Memory): boolean =>
  typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;

/** Binary codes (0..S_UN-1) inlined as single wasm ops, per dtype: add, sub, mul, div. */
const BIN_OPS = { f64: [0xa0, 0xa1, 0xa2, 0xa3], f32: [0x92, 0x93, 0x94, 0x95] };

/**
 * The replay function of entry `h` — (handle, argument ids, count) → error code, as wasm.replay —
 * or undefined when the program has a non-scalar instruction or wasm cannot be compiled here.
 */
export function compileScalarProgram(h: number): ((h: number, src: number, n: number) => number) | undefined {
  const count = wasm.entryInstrCount(h) as number;
  if (count === 0 || count > 4096) return undefined;
  views();
  const base = (wasm.entryInstrAddress(h) as number) >>> 2;
  const code: number[] = [];
  const locals: number[] = []; // local types after the i32 error code (local 3)
  const writer = new Map<number, number>(); // address → the local holding the value last stored there
  // begin(h, src, n); a nonzero code is returned as it is.
  code.push(0x20, 0, 0x20, 1, 0x20, 2, 0x10, 0, 0x22, 3, 0x04, 0x40, 0x20, 3, 0x0f, 0x0b);
  for (let i = 0; i < count; i++) {
    const w = I32[base + i * INSTR_WORDS];
    const pa = I32[base + i * INSTR_WORDS + 1] >>> 0, pb = I32[base + i * INSTR_WORDS + 2] >>> 0;
    const po = I32[base + i * INSTR_WORDS + 3] >>> 0;
    if (w < 0 || w >= S_GENERIC) return undefined;
    const is32 = w >= S_F32, k = is32 ? w - S_F32 : w;
    const type = is32 ? F32 : F64;
    const load = (p: number): void => {
      const l = writer.get(p);
      if (l !== undefined) { code.push(0x20); uleb(code, l); return; }
      code.push(0x41); sleb(code, p); code.push(is32 ? 0x2a : 0x2b, is32 ? 2 : 3, 0);
    };
    code.push(0x41); sleb(code, po); // the store's address
    if (k === S_FILL) {
      // The interpreter's <T>load<f64>(attribute): an f64 load, demoted for float32.
      code.push(0x41); sleb(code, pa); code.push(0x2b, 3, 0);
      if (is32) code.push(0xb6);
    } else if (k === S_COPY) {
      load(pa);
    } else if (k < 4) {
      load(pa); load(pb);
      code.push(BIN_OPS[is32 ? 'f32' : 'f64'][k]);
    } else if (k === S_UN + Op.neg - Op.neg) {
      load(pa); code.push(is32 ? 0x8c : 0x9a);
    } else if (k === S_UN + Op.square - Op.neg) {
      load(pa); load(pa); code.push(is32 ? 0x94 : 0xa2);
    } else {
      // Everything else through the interpreter's own scalar function (b is ignored by unaries).
      code.push(0x41); sleb(code, k);
      load(pa); if (k < S_UN) load(pb); else load(pa);
      code.push(0x10, is32 ? 2 : 1);
    }
    const local = 4 + locals.length;
    locals.push(type);
    code.push(0x22); uleb(code, local);
    code.push(is32 ? 0x38 : 0x39, is32 ? 2 : 3, 0);
    writer.set(po, local);
  }
  code.push(0x41, 0, 0x0b); // 0: done
  const body: number[] = [];
  uleb(body, 1 + locals.length);
  body.push(1, I32T);
  for (const t of locals) body.push(1, t);
  body.push(...code);

  const m: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // types: 0 (i32 i32 i32) → i32, 1 (i32 f64 f64) → f64, 2 (i32 f32 f32) → f32
  section(m, 1, [3, 0x60, 3, I32T, I32T, I32T, 1, I32T, 0x60, 3, I32T, F64, F64, 1, F64, 0x60, 3, I32T, F32, F32, 1, F32]);
  const imports: number[] = [4];
  name(imports, 'm'); name(imports, 'begin'); imports.push(0x00, 0);
  name(imports, 'm'); name(imports, 'op64'); imports.push(0x00, 1);
  name(imports, 'm'); name(imports, 'op32'); imports.push(0x00, 2);
  // The memory as the module has it: the threads build's is shared (limits 0..65536 pages).
  name(imports, 'm'); name(imports, 'memory');
  if (isShared(wasm.memory)) { imports.push(0x02, 0x03, 0); uleb(imports, 65536); } else imports.push(0x02, 0x00, 0);
  section(m, 2, imports);
  section(m, 3, [1, 0]);
  const exports: number[] = [1];
  name(exports, 'run'); exports.push(0x00, 3);
  section(m, 7, exports);
  const codeSec: number[] = [1];
  uleb(codeSec, body.length);
  codeSec.push(...body);
  section(m, 10, codeSec);
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(m)), {
      m: { begin: wasm.replayBegin, op64: wasm.scalarOp64, op32: wasm.scalarOp32, memory: wasm.memory },
    });
    return instance.exports.run as (h: number, src: number, n: number) => number;
  } catch {
    return undefined; // no run-time wasm here (or a memory this module cannot import): interpret
  }
}

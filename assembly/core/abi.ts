// The binary interface between the wasm module and the TypeScript host: the tensor-record
// layout, flag bits, error codes, sweep modes, program and optimizer layouts. Plain constants
// that both compilers accept (as assembly/core/vocabulary.ts is plain enum syntax), imported by
// assembly/ and src/ alike, so no value here is ever copied by hand.

import { Op } from "./vocabulary";

// ————————————————————————————————————————————————————————— the tensor table

export const MAX_RANK = 8;
/** bytes per table record */
export const REC = 96;
// Byte offsets of a record's fields.
export const T_GEN = 0;
export const T_DTYPE = 4;
export const T_RANK = 8;
export const T_NUMEL = 12;
export const T_DATA = 16;
export const T_FLAGS = 20;
/** adjoint tensor id during a reverse sweep, else 0 */
export const T_ADJ = 24;
/** position in the scope arena, or -1 (top level or kept) */
export const T_SLOT = 28;
/** MAX_RANK i32s */
export const T_SHAPE = 32;
/** tangent tensor id while forward mode runs, else 0 */
export const T_TAN = 64;
/** the reverse sweep whose region this tensor was last in */
export const T_SWEEP = 68;

// Flag bits of T_FLAGS: every bit is allocated here, once.
export const F_LIVE = 1;
/** on the path from a differentiated input */
export const F_NEEDS_GRAD = 2;
/** referenced by a tape record: must outlive inner scopes */
export const F_ON_TAPE = 4;
/** being handed out of the closing scope */
export const F_RETURNING = 8;
/** disposed by the user while a tape still needed it */
export const F_DISPOSE_PENDING = 16;
/** holds an adjoint during a sweep */
export const F_ADJOINT = 32;
/** one of the current sweep's targets */
export const F_TARGET = 64;
/** some tensor's tangent: lives as long as forward mode runs */
export const F_TANGENT = 128;
/** referenced only by records a discard drops */
export const F_DISCARD = 256;
/** made while `accelerate` captured a program */
export const F_CAPTURED = 512;
/** freed during a capture: kept (as dead to the host) in case the program uses it */
export const F_HELD = 1024;
/** owned by an accelerated program: dispose() leaves it alone */
export const F_PROGRAM = 2048;
/** an adjoint just made as zeros for an in-place add (engine/tape.ts adjointToAddInto) */
export const F_FRESH_ADJOINT = 4096;

// ————————————————————————————————————————————————————————— errors

// Error codes the module records at STATE + 8 (the failing op at STATE + 12, the requested
// bytes at STATE + 16); the host raises the matching WasmgradError (src/runtime.ts raise).
export const E_NONE = 0;
export const E_OOM = 1;
export const E_NO_RULE = 2;
export const E_SCOPE = 3;
/** a host (JS) rule threw; the host holds the error */
export const E_HOST = 4;
/** a shape or an index range the host should have refused reached wasm */
export const E_BOUNDS = 5;
/** an op code with no entry in the op spec reached a dispatch table */
export const E_UNKNOWN_OP = 6;
/** a record's function did not recompute into its output */
export const E_REPLAY = 10;
/** a value-dependent branch went the other way on replay */
export const E_GUARD = 11;
/** a record no replay can repeat (errorOp: the op) */
export const E_UNSUPPORTED = 12;
/** an in-place kernel changed a tensor the program does not define */
export const E_CONSTANT_MUTATED = 13;
/** a tensor from outside the program was freed since the capture */
export const E_STALE = 14;
/** called inside a differentiation level: not replayed */
export const E_EAGER = 15;

// ————————————————————————————————————————————————————————— the reverse sweep

/** record the sweep's own ops, so its results can be differentiated again */
export const MODE_CREATE_GRAPH = 1;
/** keep every record's output adjoint (for trace) */
export const MODE_RETAIN_ALL = 2;

// ————————————————————————————————————————————————————————— accelerated programs

/** words per program instruction: a code, then three pointers (a, b, out) or a record index */
export const INSTR_WORDS = 4;
// The elementwise groups of the vocabulary, first and last code: binary ops are add..logaddexp
// and unary ops neg..erf (a new op of either kind is appended at the end of its group).
export const BINARY_FIRST = Op.add;
export const BINARY_LAST = Op.atan2;
export const UNARY_FIRST = Op.neg;
export const UNARY_LAST = Op.erf;
// Scalar codes are dense per dtype — the binary ops, the unary ops, fill, copy — so a replay
// dispatches each with one br_table; float32 codes follow the float64 ones.
export const S_BIN = 0;
export const S_UN = S_BIN + (BINARY_LAST - BINARY_FIRST + 1);
export const S_FILL = S_UN + (UNARY_LAST - UNARY_FIRST + 1);
export const S_COPY = S_FILL + 1;
export const S_PER_DTYPE = S_COPY + 1;
export const S_F32 = S_PER_DTYPE;
export const S_GENERIC = 2 * S_PER_DTYPE;
/** a fused elementwise group (assembly/engine/fusion.ts): word 1 is its descriptor */
export const S_FUSED = S_GENERIC + 1;

// ————————————————————————————————————————————————————————— convolution and optimizers

/** words of a convolution's geometry: [N, C, O, G, xH, xW, yH, yW, kH, kW, sH, sW, pT, pL, dH, dW] */
export const CONV_GEO_WORDS = 16;
/** words of a max pooling's geometry (assembly/ops/pool.ts maxPoolIndices) */
export const MAX_POOL_GEO_WORDS = 13;
/** words of a 3-D convolution's geometry: [N, C, O, G, xD, xH, xW, yD, yH, yW, kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW] */
export const CONV3D_GEO_WORDS = 22;
/** words of a 3-D max pooling's geometry (assembly/ops/pool3d.ts maxPool3dIndices) */
export const MAX_POOL3D_GEO_WORDS = 19;
/** words of a 3-D average pooling's geometry (assembly/ops/pool3d.ts avgPool3dFamily) */
export const AVG_POOL3D_GEO_WORDS = 19;

/** i32 words per parameter in a fused optimizer update's list: param, grad, state 0..2, step, group, counter */
export const OPTIM_RECORD_WORDS = 8;
/** float64 hyperparameters per parameter group */
export const OPTIM_HYPER_WORDS = 16;
// The hyperparameters' positions within a group's block.
export const H_LR = 0;
export const H_WD = 1;
export const H_MOMENTUM = 2;
export const H_DAMPENING = 3;
export const H_NESTEROV = 4;
export const H_MAXIMIZE = 5;
export const H_BETA1 = 6;
export const H_BETA2 = 7;
export const H_EPS = 8;
export const H_AMSGRAD = 9;
export const H_ALPHA = 10;
export const H_CENTERED = 11;
export const H_LR_DECAY = 12;

// The convolution and pooling ops (assembly/conv.ts, assembly/pool.ts; src/ops/conv.ts,
// src/ops/pool.ts) with their status, for the shared registry test. A primitive has its kernel,
// VJP and JVP rules in wasm; a composite is built from differentiable ops.

export interface OpStatus {
  name: string;
  kind: 'primitive' | 'composite';
  vjp: boolean;
  jvp: boolean;
  float32: boolean;
  float64: boolean;
  /** the public name this one is an alias of */
  aliasOf?: string;
  notes?: string;
}

const op = (name: string, kind: OpStatus['kind'], notes?: string, aliasOf?: string): OpStatus =>
  ({ name, kind, vjp: true, jvp: true, float32: true, float64: true, ...(notes ? { notes } : {}), ...(aliasOf ? { aliasOf } : {}) });

export const convOps: OpStatus[] = [
  op('conv1d', 'primitive', 'Op.conv with xH = kH = 1; bias added by add'),
  op('conv2d', 'primitive', 'Op.conv (input gradient Op.convTranspose, weight gradient Op.convWeight); bias added by add'),
  op('convTranspose1d', 'primitive', 'Op.convTranspose'),
  op('convTranspose2d', 'primitive', 'Op.convTranspose'),
  op('dltranspconv', 'primitive', 'MATLAB name', 'convTranspose2d'),
  op('maxPool1d', 'primitive', 'argmax indices (not differentiable) + Op.poolGather'),
  op('maxPool2d', 'primitive', 'argmax indices (not differentiable) + Op.poolGather; returnIndices gives int32 indices'),
  op('avgPool1d', 'primitive', 'Op.avgPool'),
  op('avgPool2d', 'primitive', 'Op.avgPool'),
  op('adaptiveAvgPool1d', 'primitive', 'Op.avgPool with adaptive windows'),
  op('adaptiveAvgPool2d', 'primitive', 'Op.avgPool with adaptive windows'),
  op('globalAvgPool2d', 'composite', 'adaptiveAvgPool2d(x, 1)'),
  op('globalMaxPool2d', 'composite', 'maxPool2d with the whole plane as kernel'),
  op('maxUnpool2d', 'primitive', 'Op.poolScatter; differentiable in x, not in the indices'),
];

export default convOps;

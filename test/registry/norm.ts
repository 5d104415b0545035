// The normalisation family's ops and their status (checked by the shared registry test).
// kind: 'primitive' = kernel + VJP + JVP rules in wasm (assembly/norm.ts); 'composite' = built
// from differentiable ops on the host. aliasOf names the op an alias calls.

export interface OpStatus {
  name: string;
  kind: 'primitive' | 'composite';
  vjp: boolean;
  jvp: boolean;
  float32: boolean;
  float64: boolean;
  aliasOf?: string;
  note?: string;
}

const fused = { kind: 'primitive', vjp: true, jvp: true, float32: true, float64: true } as const;
const composite = { kind: 'composite', vjp: true, jvp: true, float32: true, float64: true } as const;

export const norm: OpStatus[] = [
  { name: 'batchNorm', ...fused, note: 'normalize primitive (training) + per-channel affine; running stats updated in place, not differentiated' },
  { name: 'layerNorm', ...fused, note: 'normalize primitive + elementwise affine' },
  { name: 'groupNorm', ...fused, note: 'normalize primitive + per-channel affine' },
  { name: 'instanceNorm', ...fused, note: 'normalize primitive + per-channel affine; optional running stats' },
  { name: 'localResponseNorm', ...composite },
  { name: 'crosschannelnorm', ...composite, aliasOf: 'localResponseNorm' },
];

export default norm;

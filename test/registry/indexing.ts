// Status of every public op of the indexing family (src/ops/indexing.ts, assembly/indexing.ts).
// differentiable: false marks ops whose outputs are integer positions or masks (no derivative
// exists); for those vjp/jvp say nothing. Tests in test/indexing.test.ts back every row.

export interface OpStatus {
  name: string;
  kind: 'primitive' | 'composite';
  differentiable: boolean;
  vjp: boolean;
  jvp: boolean;
  float32: boolean;
  float64: boolean;
  aliases?: string[];
  note?: string;
}

export const ops: OpStatus[] = [
  { name: 'sort', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true, note: 'indices by a stable wasm merge sort (not differentiable), values by the recording gather' },
  { name: 'argsort', kind: 'primitive', differentiable: false, vjp: false, jvp: false, float32: true, float64: true, note: 'int32 indices' },
  { name: 'topk', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true, note: 'values differentiable, indices int32' },
  { name: 'argmax', kind: 'primitive', differentiable: false, vjp: false, jvp: false, float32: true, float64: true, note: 'int32 result' },
  { name: 'argmin', kind: 'primitive', differentiable: false, vjp: false, jvp: false, float32: true, float64: true, note: 'int32 result' },
  { name: 'cumsum', kind: 'primitive', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'cumprod', kind: 'primitive', differentiable: true, vjp: true, jvp: true, float32: true, float64: true, note: 'rules via the linrec scan primitive: exact with zeros at every order' },
  { name: 'tril', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'triu', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'flip', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'roll', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'tile', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'repeat', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'repeatInterleave', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true },
  { name: 'oneHot', kind: 'composite', differentiable: false, vjp: false, jvp: false, float32: false, float64: false, note: 'int32 output from int32 indices (PyTorch: int64)' },
  { name: 'embedding', kind: 'composite', differentiable: true, vjp: true, jvp: true, float32: true, float64: true, note: 'gradient w.r.t. the table; paddingIdx row gets none' },
];

export default ops;

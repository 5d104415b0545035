// Status of the recurrent ops (src/ops/recurrent.ts) for the shared op-registry test.
// Composites get VJP, JVP and higher derivatives from the primitives they are built of.

export interface OpStatus {
  name: string;
  kind: 'primitive' | 'composite';
  vjp: boolean;
  jvp: boolean;
  float32: boolean;
  float64: boolean;
}

export const ops: OpStatus[] = [
  { name: 'lstm', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true },
  { name: 'gru', kind: 'composite', vjp: true, jvp: true, float32: true, float64: true },
];

export default ops;

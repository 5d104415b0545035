import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const { nn } = wg;
class Net extends nn.Module {
  fc = new nn.Linear(2, 1);
  forward(x: wg.Tensor) { return this.fc.call(x); }
}
const x = () => wg.tensor([1, 2]);

export const cases: OptionCase[] = [
  { name: 'valueAndGrad', call: (o) => wg.valueAndGrad((a: wg.Tensor) => a.sum(), o)(x()) },
  { name: 'grad', call: (o) => wg.grad((a: wg.Tensor) => a.sum(), o)(x()) },
  { name: 'dlgradient', call: (o) => wg.dlfeval((a: wg.Tensor) => wg.dlgradient(a.sum(), a, o), x()) },
  { name: 'Module.loadStateDict', call: (o) => { const n = new Net(); try { n.loadStateDict(n.stateDict(), o); } finally { n.dispose(); } } },
  { name: 'Module.registerBuffer', call: (o) => { const n = new Net(); try { n.registerBuffer('b', wg.tensor([1]), o); } finally { n.dispose(); } } },
  ...(['dljacobian', 'dldivergence', 'dllaplacian'] as const).map((name) => ({
    name, call: (o: any) => wg.dlfeval((a: wg.Tensor) => (wg as any)[name](a.square().reshape([1, 2]), a.reshape([1, 2]), 1, o), x()),
  })),
  { name: 'customGrad', call: (o) => wg.customGrad((a: wg.Tensor) => a.mul(2), (g: wg.Tensor) => [g.mul(2)], o)(x()) },
  { name: 'customJvp', call: (o) => wg.customJvp((a: wg.Tensor) => a.mul(2), (t: wg.Tensor[]) => t[0].mul(2), o)(x()) },
  { name: 'accelerate', call: (o) => { const f = wg.accelerate((a: wg.Tensor) => a.mul(2), o); try { return f(x()).toArray(); } finally { f.clearCache(); } } },
  // init with the runtime already initialised: the options are checked, then nothing changes.
  { name: 'init', async: true, call: (o) => wg.init(o) },
];

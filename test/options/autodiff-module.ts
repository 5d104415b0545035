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
];

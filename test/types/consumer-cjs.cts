// A CommonJS consumer (module nodenext, a .cts file): require('wasmgrad') is typed by the .d.cts
// files of dist/types-cjs (test/types.test.ts).
import wg = require('wasmgrad');
import nn = require('wasmgrad/nn');

export function run(): number {
  const t = wg.tensor([1, 2, 3]);
  const [y, g] = wg.valueAndGrad((x: wg.Tensor) => x.square().sum())(t);
  const layer = new nn.Linear(3, 1);
  const out: wg.Tensor = layer.call(g.reshape([1, 3]));
  return y.item() * 2 + out.item();
}

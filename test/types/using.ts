// `using` with wasmgrad's disposables (TypeScript 5.2+ with lib esnext.disposable): test/types.test.ts.
import { tensor, accelerate, type Tensor } from 'wasmgrad';
import * as nn from 'wasmgrad/nn';
import { SGD } from 'wasmgrad/optim';

export function run(): number {
  using t = tensor([1, 2, 3]);
  using net = new nn.Linear(3, 1);
  using opt = new SGD(net, { lr: 0.1 });
  using fast = accelerate((x: Tensor) => x.mul(2).sum());
  return fast(t).item() + net.call(t.reshape([1, 3])).item() + opt.paramGroups.length;
}

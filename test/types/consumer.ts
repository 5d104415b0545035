// A consumer of wasmgrad's published types (test/types.test.ts compiles it against dist/types with
// TypeScript 5.0, 5.4, 6 and 7, lib es2022 only, skipLibCheck false): the common cases are typed
// exactly, never `any` (the @ts-expect-error lines prove it).
import { init, tensor, valueAndGrad, grad, jvp, Tensor, type NestedNumbers, type GradOf } from 'wasmgrad';
import * as nn from 'wasmgrad/nn';
import { Adam } from 'wasmgrad/optim';

await init();

// item() is a number: arithmetic type-checks; a boolean through itemBool().
const t = tensor([1, 2, 3]);
const twice: number = t.sum().item() * 2;
const positive: boolean = t.sum().gt(0).itemBool();
// @ts-expect-error item() is a number, not any
t.item().toUpperCase();

// valueAndGrad over a tensor.
const f = (x: Tensor) => x.mul(x).sum();
const [y, g] = valueAndGrad(f)(t);
const yValue: number = y.item();
const gTensor: Tensor = g;
// @ts-expect-error the function takes a Tensor
valueAndGrad(f)('x');

// valueAndGrad over a plain object of tensors: the gradient has the object's keys.
const params = { w: tensor([1, 2]), b: tensor([0]) };
const loss = (p: typeof params, x: Tensor) => p.w.mul(x).sum().add(p.b.sum());
const [lossValue, gp] = valueAndGrad(loss)(params, tensor([3, 4]));
const gw: Tensor = gp.w;
const gb: Tensor = gp.b;
// @ts-expect-error no parameter c
gp.c;

// Several argnums: a tuple; hasAux: [[value, aux], gradient].
const [, [g0, g1]] = valueAndGrad((a: Tensor, b: Tensor) => a.mul(b).sum(), { argnums: [0, 1] })(t, t);
const g01: Tensor[] = [g0, g1];
const [, gSecond] = valueAndGrad((a: Tensor, b: Tensor[]) => a.mul(b[0]).sum(), { argnums: 1 })(t, [t]);
const gList: Tensor[] = gSecond;
const [[auxValue, aux], gAux] = valueAndGrad((x: Tensor) => [x.sum(), { steps: 3 }], { hasAux: true })(t);
const steps: number = aux.steps + auxValue.item();
const gAuxTensor: Tensor = gAux;
const dg: Tensor = grad(f)(t);
const [gWithAux, aux2] = grad((x: Tensor) => [x.sum(), 'label'], { hasAux: true })(t);
const label: string = aux2;

// jvp: outputs and tangents in f's return type.
const [out, tangent] = jvp((x: Tensor) => x.exp(), [t], [t]);
const outTensor: Tensor = out;
const tangentTensor: Tensor = tangent;

// A Module subclass: call() and predict() take forward's parameters and return its result; its
// gradient is an object of tensors by parameter name.
class Mlp extends nn.Module {
  fc = new nn.Linear(3, 1);
  forward(x: Tensor): Tensor { return this.fc.call(x); }
}
const net = new Mlp();
const prediction: Tensor = net.call(tensor([[1, 2, 3]]));
const inference: Tensor = net.predict(tensor([[1, 2, 3]]));
// @ts-expect-error forward takes a Tensor
net.call('x');
const [netLoss, netGrads] = valueAndGrad((m: Mlp) => m.call(t.reshape([1, 3])).sum())(net);
const named: Record<string, Tensor> = netGrads;
const moduleGrad: GradOf<Mlp> = named;
const opt = new Adam(net, { lr: 1e-3 });
const base: nn.Module = net;
// @ts-expect-error a Module of unknown class returns unknown, not any
base.call(t).mul(2);

// toArray(): nested numbers (booleans for a bool tensor), narrowed with a cast.
const values = t.toArray() as number[];
const first: number = values[0] * 2;
const nested: NestedNumbers = [[1], [2]];

opt.dispose();
net.dispose();
t.dispose();
export { twice, positive, yValue, gTensor, lossValue, gw, gb, g01, gList, steps, gAuxTensor, dg, gWithAux, label,
  outTensor, tangentTensor, prediction, inference, netLoss, moduleGrad, first, nested };

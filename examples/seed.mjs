// The main job (until the MNIST training example lands): the seed example of automatic
// differentiation, f(x) = x1 · exp(−½(x1² + x2²)) at x = (2, ½), in float64.
// Prints the forward trace (every u_i) and the reverse sweep (every adjoint ū_i = ∂f/∂u_i),
// the gradient, the forward-mode tangents in each direction and the Hessian, as
// ../shared/reference/seed-example.md tabulates them.
//
//   npm run seed                      # build, then run this file
//   node examples/seed.mjs 1.5 -0.3   # another point

import { init, tensor, valueAndGrad, trace, traceJvp, hessian } from 'wasmgrad';

await init();

const [a = 2, b = 0.5] = process.argv.slice(2).map(Number);
const f = (x1, x2) => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());
const x1 = tensor(a, { dtype: 'float64' });
const x2 = tensor(b, { dtype: 'float64' });

console.log(`f(x) = x1 · exp(−½(x1² + x2²)) at x1 = ${a}, x2 = ${b}\n`);
console.log(trace(f, x1, x2).toString());

const [y, [g1, g2]] = valueAndGrad(f, { argnums: [0, 1] })(x1, x2);
console.log(`\nf = ${y.item()}`);
console.log(`∇f = [${g1.item()}, ${g2.item()}]`);

// Forward mode: one pass per input direction, tangents u̇ beside the values.
for (const [name, d1, d2] of [['x1', 1, 0], ['x2', 0, 1]]) {
  const t = traceJvp(f, [x1, x2], [tensor(d1, { dtype: 'float64' }), tensor(d2, { dtype: 'float64' })]);
  console.log(`\nForward mode in direction ${name}: ` + t.nodes.map((n) => n.tangent).join(', '));
}

// Second order: the Hessian by forward over reverse.
const fv = (x) => { const [a, b] = x.unstack(); return f(a, b); };
const H = hessian(fv)(tensor([a, b], { dtype: 'float64' })).toArray();
console.log(`\nHessian = [[${H[0].join(', ')}], [${H[1].join(', ')}]], Laplacian = ${H[0][0] + H[1][1]}`);

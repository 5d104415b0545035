// MATLAB's "Dynamical System Modeling Using Neural ODE" in wasmgrad: learn the dynamics of
//
//     x' = A·x,   A = [-0.1 -1; 1 -0.1],   x(0) = [2; 0]      (a decaying spiral)
//
// with a neural ODE y' = f(y, θ), f a 2 → 20 → 2 MLP with tanh (MATLAB's odeModel), trained
// with Adam on random windows of 40 time steps of the true trajectory: each mini-batch starts
// 200 trajectories at random points of it and compares dlode45's solution over the next 40
// steps with the data (mean absolute error, MATLAB's l1loss). The MATLAB lines each part
// follows are in the comments beside it. The data (A, x0, 2000 time steps on [0, 15], ode45
// at RelTol 1e-7) are as MATLAB's published example text gives them — linear dynamics x' = A·x,
// not a cubic field; the training values (40 steps per window, hidden size 20, mini-batch 200,
// 1200 iterations, learning rate 0.002, Adam's decays 0.9 / 0.999) are the example's as
// remembered, not checked against its text here. Where wasmgrad differs: the parameters are a
// flat object ({ fc1Weights, … } for MATLAB's fc1.Weights: adamupdate takes a flat object), in
// single precision as MATLAB's initializeGlorot gives, the mini-batches come from a seeded
// generator, and the ground truth comes from dlode45 itself at RelativeTolerance 1e-7 (MATLAB
// calls ode45 with that tolerance; both are Dormand–Prince with ode45's step control).
//
//   npm run build && node examples/matlab/neural-ode.mjs            # the full run
//   node examples/matlab/neural-ode.mjs --iterations 300            # shorter
//   node examples/matlab/neural-ode.mjs --gradient-mode adjoint     # gradients by the adjoint ODE
//
// The full run on a 2-core machine (Node 20) printed:
//
//   iteration    1  loss 0.09544  (0.1 s)
//   iteration   50  loss 0.01474  (2.4 s)
//   iteration  200  loss 0.00481  (5.5 s)
//   iteration  400  loss 0.00270  (9.6 s)
//   iteration  600  loss 0.00178  (13.8 s)
//   iteration  800  loss 0.00117  (17.5 s)
//   iteration 1000  loss 0.00085  (23.4 s)
//   iteration 1200  loss 0.00072  (29.4 s)
//   prediction error (mean |x_true − x_pred| over [0, 15]) from 4 new initial states: 0.0126, 0.0146, 0.0179, 0.0216
//   final loss 0.00072 (from 0.09544 at iteration 1, 133.1× lower) after 1200 iterations in 29.4 s
//
// (every 50th line shown at 200-iteration spacing; 10.6 s of CPU time — the machine was shared,
// load average 10 on 2 cores). An iteration is one dlode45 solve of 200 trajectories over 40
// output times (about 10 Dormand–Prince steps), its reverse sweep and Adam. With
// --gradient-mode adjoint the losses are the same to 4 digits and an iteration takes about 5×
// longer: the adjoint pass stops at each of the 40 output times to add its cotangent.

import * as wg from '../../dist/index.js';

const { dlode45 } = wg;
if (typeof dlode45 !== 'function') throw new Error('dist/index.js has no dlode45: run npm run build first');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const gradientMode = arg('gradient-mode', 'direct'); // MATLAB's default; 'adjoint' solves the adjoint ODE backwards

await wg.init();
wg.seed(0);
const random = wg.seededRandom(0);

// ————————————————————————————————————————————— Synthesize Data of Target Dynamics

const x0 = wg.tensor([2, 0], { dtype: 'float64' });                 // x0 = [2; 0];
const A = wg.tensor([[-0.1, -1], [1, -0.1]], { dtype: 'float64' }); // A = [-0.1 -1; 1 -0.1];
const trueModel = (t, y, a) => wg.matmul(a, y);                     // trueModel = @(t,y) A*y;

const numTimeSteps = 2000;                                          // numTimeSteps = 2000;
const T = 15;                                                       // T = 15;
const odeOptions = { RelativeTolerance: 1e-7 };                     // odeOptions = odeset(RelTol=1.e-7);
const t = Array.from({ length: numTimeSteps }, (_, i) => (i * T) / (numTimeSteps - 1)); // t = linspace(0, T, numTimeSteps);
// [~, xTrain] = ode45(trueModel, t, x0, odeOptions); xTrain = xTrain';   → 2 × numTimeSteps
const xTrain = wg.tidy(() => {
  const later = dlode45(trueModel, t, x0.reshape([2, 1]), A, odeOptions); // [2, 1, 1999]
  return wg.concat([x0.reshape([2, 1]), later.reshape([2, numTimeSteps - 1])], 1).to('float32');
});
const xData = xTrain.data(); // row-major [2, numTimeSteps]
wg.keep(xTrain);

// ————————————————————————————————————————————— Define and Initialize Model Parameters

const neuralOdeTimesteps = 40;                                      // neuralOdeTimesteps = 40;
const dt = t[1];                                                    // dt = t(2);
const timesteps = Array.from({ length: neuralOdeTimesteps + 1 }, (_, i) => i * dt); // timesteps = (0:neuralOdeTimesteps)*dt;

const stateSize = 2;                                                // stateSize = size(xTrain,1);
const hiddenSize = 20;                                              // hiddenSize = 20;

// initializeGlorot(sz, numOut, numIn): uniform in ±sqrt(6 / (numIn + numOut)), single precision.
const initializeGlorot = (sz, numOut, numIn) =>
  wg.keep(wg.tidy(() => wg.rand(sz).mul(2).sub(1).mul(Math.sqrt(6 / (numIn + numOut)))));
const initializeZeros = (sz) => wg.keep(wg.zeros(sz));

const neuralOdeParameters = {                                       // neuralOdeParameters = struct;
  fc1Weights: initializeGlorot([hiddenSize, stateSize], hiddenSize, stateSize), // .fc1.Weights = initializeGlorot(sz, hiddenSize, stateSize);
  fc1Bias: initializeZeros([hiddenSize, 1]),                                    // .fc1.Bias = initializeZeros([hiddenSize 1]);
  fc2Weights: initializeGlorot([stateSize, hiddenSize], stateSize, hiddenSize), // .fc2.Weights = initializeGlorot(sz, stateSize, hiddenSize);
  fc2Bias: initializeZeros([stateSize, 1]),                                     // .fc2.Bias = initializeZeros([stateSize 1]);
};

// ————————————————————————————————————————————— Define Model Function and Model Loss Function

// function y = odeModel(~,y,theta)
//   y = tanh(theta.fc1.Weights*y + theta.fc1.Bias);
//   y = theta.fc2.Weights*y + theta.fc2.Bias;
// end
function odeModel(_t, y, theta) {
  const h = wg.tanh(wg.matmul(theta.fc1Weights, y).add(theta.fc1Bias));
  return wg.matmul(theta.fc2Weights, h).add(theta.fc2Bias);
}

// function X = model(tspan,X0,neuralOdeParameters)
//   X = dlode45(@odeModel,tspan,X0,neuralOdeParameters,DataFormat="CB");
// end
function model(tspan, X0, params) {
  // [C, B, T]: the times last, as MATLAB's "CBT"
  return dlode45(odeModel, tspan, X0, params, 'DataFormat', 'CB', 'GradientMode', gradientMode);
}

// function [gradients,loss] = modelLoss(tspan,X0,neuralOdeParameters,targets)
//   X = model(tspan,X0,neuralOdeParameters);
//   loss = l1loss(X,targets,NormalizationFactor="all-elements",DataFormat="CBT");
//   gradients = dlgradient(loss,neuralOdeParameters);
// end
function modelLoss(tspan, X0, params, targets) {
  const X = model(tspan, X0, params);
  const loss = wg.l1Loss(X, targets); // the mean over all elements
  const gradients = wg.dlgradient(loss, params);
  return [gradients, loss];
}

// function [x0, targets] = createMiniBatch(numTimesteps,numTimesPerObs,miniBatchSize,X)
//   s = randperm(numTimesteps - numTimesPerObs, miniBatchSize);
//   x0 = dlarray(X(:, s));
//   targets = zeros([size(X,1) miniBatchSize numTimesPerObs]);
//   for i = 1:miniBatchSize
//     targets(:, i, 1:numTimesPerObs) = X(:, s(i) + 1:(s(i) + numTimesPerObs));
//   end
// end
function createMiniBatch(numTimesteps, numTimesPerObs, miniBatchSize, X) {
  const pool = Array.from({ length: numTimesteps - numTimesPerObs }, (_, i) => i);
  for (let i = 0; i < miniBatchSize; i++) { // the first miniBatchSize of a random permutation
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const s = pool.slice(0, miniBatchSize);
  const x0s = new Float32Array(stateSize * miniBatchSize);
  const targets = new Float32Array(stateSize * miniBatchSize * numTimesPerObs);
  for (let c = 0; c < stateSize; c++) {
    for (let i = 0; i < miniBatchSize; i++) {
      x0s[c * miniBatchSize + i] = X[c * numTimesteps + s[i]];
      for (let k = 0; k < numTimesPerObs; k++) {
        targets[(c * miniBatchSize + i) * numTimesPerObs + k] = X[c * numTimesteps + s[i] + 1 + k];
      }
    }
  }
  return [wg.tensor(x0s, { shape: [stateSize, miniBatchSize] }), wg.tensor(targets, { shape: [stateSize, miniBatchSize, numTimesPerObs] })];
}

// ————————————————————————————————————————————— Specify Training Options, Train Model

const gradDecay = 0.9;                                              // gradDecay = 0.9;
const sqGradDecay = 0.999;                                          // sqGradDecay = 0.999;
const learnRate = 0.002;                                            // learnRate = 0.002;
const numIter = Number(arg('iterations', 1200));                    // numIter = 1200;
const miniBatchSize = 200;                                          // miniBatchSize = 200;
const plotFrequency = 50;                                           // plotFrequency = 50;
let averageGrad = [];                                               // averageGrad = [];
let averageSqGrad = [];                                             // averageSqGrad = [];

const start = performance.now();
let first = NaN, last = NaN;
for (let iter = 1; iter <= numIter; iter++) {                       // for iter = 1:numIter
  wg.tidy(() => {
    // [X, targets] = createMiniBatch(numTimeSteps, neuralOdeTimesteps, miniBatchSize, xTrain);
    const [X, targets] = createMiniBatch(numTimeSteps, neuralOdeTimesteps, miniBatchSize, xData);
    // [gradients,loss] = dlfeval(@modelLoss,timesteps,X,neuralOdeParameters,targets);
    const [gradients, loss] = wg.dlfeval(modelLoss, timesteps, X, neuralOdeParameters, targets);
    // [neuralOdeParameters,averageGrad,averageSqGrad] = adamupdate(neuralOdeParameters,gradients,averageGrad,averageSqGrad,iter,...
    //     learnRate,gradDecay,sqGradDecay);
    [, averageGrad, averageSqGrad] = wg.adamupdate(neuralOdeParameters, gradients, averageGrad, averageSqGrad, iter,
      learnRate, gradDecay, sqGradDecay);
    last = loss.item();
    if (iter === 1) first = last;
    if (iter === 1 || iter % plotFrequency === 0) {                 // if mod(iter,plotFrequency) == 0  || iter == 1
      const s = ((performance.now() - start) / 1000).toFixed(1);
      console.log(`iteration ${String(iter).padStart(4)}  loss ${last.toFixed(5)}  (${s} s)`);
    }
  });
}
const seconds = (performance.now() - start) / 1000;

// ————————————————————————————————————————————— Evaluate Model

// Four initial conditions the model never saw, over the whole of t, against the true dynamics:
// x0Pred1 = sqrt([2;2]); x0Pred2 = [-1;-1.5]; x0Pred3 = [0;2]; x0Pred4 = [-2;0];
// err = mean(abs(xTrue - xPred), "all")
const tests = [[Math.SQRT2, Math.SQRT2], [-1, -1.5], [0, 2], [-2, 0]];
const errors = tests.map((x) => wg.tidy(() => {
  const x64 = wg.tensor(x, { dtype: 'float64', shape: [2, 1] });
  const xTrue = dlode45(trueModel, t, x64, A, odeOptions).to('float32');          // [~, xTrue] = ode45(trueModel, t, x0Pred, odeOptions);
  const xPred = dlode45(odeModel, t, x64.to('float32'), neuralOdeParameters, 'DataFormat', 'CB'); // xPred = dlode45(@odeModel, t, dlarray(x0Pred), …);
  return xTrue.sub(xPred).abs().mean().item();
}));
console.log(`prediction error (mean |x_true − x_pred| over [0, ${T}]) from 4 new initial states: ${errors.map((e) => e.toFixed(4)).join(', ')}`);
console.log(`final loss ${last.toFixed(5)} (from ${first.toFixed(5)} at iteration 1, ${(first / last).toFixed(1)}× lower) after ${numIter} iterations in ${seconds.toFixed(1)} s`);

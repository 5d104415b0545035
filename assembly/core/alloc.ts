// Allocator over linear memory for tensor data and runtime tables.
//
// Boundary-tag blocks kept in power-of-two size bins, with splitting and coalescing, so freed
// blocks are reused and neighbours merge. Memory grows on demand up to a settable page limit.
// Failure never traps: alloc returns 0 and records the request, and the host raises
// OutOfMemoryError with the requested and available bytes.
//
// Block header (16 bytes, payload 16-byte aligned for v128):
//   +0 size     u32  whole block in bytes (header included), multiple of 16; bit 0 = in use
//   +4 prevSize u32  size of the physically preceding block (0 for the first), for coalescing
//   +8 nextFree u32  free-list links, meaningful only while the block is free
//   +12 prevFree u32

const HEADER: u32 = 16;
const MIN_BLOCK: u32 = 32;
const USED: u32 = 1;
const BINS = 32;

// Static state in the data segment (the module has no managed heap).
const binHeads = memory.data(BINS * 4);
let heapStart: u32 = 0;
let heapTop: u32 = 0; // first byte past the last block; [heapTop, memory end) is untouched
let pageLimit: i32 = 65536;
let liveBytes: f64 = 0; // requested bytes of live allocations
let peakBytes: f64 = 0;
let liveBlocks: i32 = 0;
export let lastFailedRequest: f64 = 0;
// The end of the memory ever handed out: above it, memory is as memory.grow made it (zeros),
// and touching it costs the operating system a page fault per page (on a fresh VM, ~7 µs per
// 4 KiB). A block carved from there is known to be zero, so a zero fill can skip it.
let touchedTop: u32 = 0;
let zeroBlock: u32 = 0; // the payload of the last allocation, when it came from untouched memory

/** Whether the payload at `ptr` (just allocated) is known to hold zeros (untouched memory). */
export function isUntouched(ptr: u32): bool { return ptr != 0 && ptr == zeroBlock; }

@inline function blockSize(b: u32): u32 { return load<u32>(b) & ~USED; }
@inline function isUsed(b: u32): bool { return (load<u32>(b) & USED) != 0; }
@inline function prevSizeOf(b: u32): u32 { return load<u32>(b, 4); }

function binOf(size: u32): i32 { return 31 - <i32>clz(size); }

function unlinkFree(b: u32): void {
  const next = load<u32>(b, 8);
  const prev = load<u32>(b, 12);
  if (prev != 0) store<u32>(prev, next, 8);
  else store<u32>(binHeads + (<u32>binOf(blockSize(b)) << 2), next);
  if (next != 0) store<u32>(next, prev, 12);
}

function linkFree(b: u32, size: u32): void {
  store<u32>(b, size);
  const head = binHeads + (<u32>binOf(size) << 2);
  const first = load<u32>(head);
  store<u32>(b, first, 8);
  store<u32>(b, 0, 12);
  if (first != 0) store<u32>(first, b, 12);
  store<u32>(head, b);
}

@inline function setPrevSizeOfNext(b: u32, size: u32): void {
  const next = b + size;
  if (next < heapTop) store<u32>(next, size, 4);
}

function initHeap(): void {
  heapStart = (<u32>__heap_base + 15) & ~15;
  heapTop = heapStart;
  touchedTop = heapStart;
  store<i32>(PAGES, memory.size());
}

// The memory's size in pages, where the host reads it without a call. Growing a memory detaches
// its old buffer, but a shared memory's old buffer stays valid and short: the host remakes its
// views whenever this word differs from the one they were made with.
const PAGES = memory.data(16, 16);
export function pagesAddress(): u32 { return <u32>PAGES; }

function grew(ok: bool): bool {
  if (ok) store<i32>(PAGES, memory.size());
  return ok;
}

/** Ensures memory covers [0, end). Returns false where the page limit or the engine says no. */
function ensureMemory(end: u32): bool {
  const have = <u32>memory.size();
  const needPages = (end + 0xffff) >>> 16;
  if (needPages <= have) return true;
  if (<i32>needPages > pageLimit) return false;
  // Grow geometrically to amortise, but settle for exactly what is needed.
  let want = max(needPages, min(have + (have >>> 1), <u32>pageLimit));
  if (grew(memory.grow(<i32>(want - have)) >= 0)) return true;
  return grew(memory.grow(<i32>(needPages - have)) >= 0);
}

/** Allocates `bytes` (16-byte aligned). Returns 0 on failure, never traps. */
export function alloc(bytes: u32): u32 {
  if (heapStart == 0) initHeap();
  zeroBlock = 0;
  if (bytes > 0xfff00000) { lastFailedRequest = <f64>bytes; return 0; }
  const need = max(MIN_BLOCK, (bytes + HEADER + 15) & ~15);
  // First fit in the bin of `need`, then the head of any larger bin.
  let bin = binOf(need);
  let b: u32 = load<u32>(binHeads + (<u32>bin << 2));
  while (b != 0 && blockSize(b) < need) b = load<u32>(b, 8);
  while (b == 0 && ++bin < BINS) b = load<u32>(binHeads + (<u32>bin << 2));
  if (b != 0) {
    unlinkFree(b);
    const size = blockSize(b);
    if (size - need >= MIN_BLOCK) {
      const rest = b + need;
      store<u32>(rest, need, 4);
      linkFree(rest, size - need);
      setPrevSizeOfNext(rest, size - need);
      store<u32>(b, need | USED);
    } else {
      store<u32>(b, size | USED);
    }
  } else {
    b = heapTop;
    if (<u64>b + <u64>need > 0xffff0000 || !ensureMemory(b + need)) {
      lastFailedRequest = <f64>bytes;
      return 0;
    }
    store<u32>(b, need | USED);
    store<u32>(b, b == heapStart ? 0 : lastBlockSize, 4);
    heapTop = b + need;
    lastBlockSize = need;
    // Only the header was written: the payload is still the zeros memory.grow made.
    if (b >= touchedTop) zeroBlock = b + HEADER;
    if (heapTop > touchedTop) touchedTop = heapTop;
  }
  liveBytes += <f64>bytes;
  store<u32>(b, bytes, 8); // requested size, for accounting (links unused while in use)
  if (liveBytes > peakBytes) peakBytes = liveBytes;
  liveBlocks++;
  return b + HEADER;
}

let lastBlockSize: u32 = 0; // size of the block ending at heapTop

export function free(ptr: u32): void {
  if (ptr == 0) return;
  let b = ptr - HEADER;
  liveBytes -= <f64>load<u32>(b, 8);
  liveBlocks--;
  let size = blockSize(b);
  // Merge with the following block, or give the tail back to the untouched top.
  const next = b + size;
  if (next < heapTop && !isUsed(next)) {
    unlinkFree(next);
    size += blockSize(next);
  }
  // Merge with the preceding block.
  const prevSize = prevSizeOf(b);
  if (prevSize != 0 && !isUsed(b - prevSize)) {
    b -= prevSize;
    unlinkFree(b);
    size += prevSize;
  }
  if (b + size >= heapTop) {
    heapTop = b;
    lastBlockSize = b == heapStart ? 0 : prevSizeOf(b);
    return;
  }
  linkFree(b, size);
  setPrevSizeOfNext(b, size);
}

/**
 * memory.copy between blocks that do not overlap, with the few bytes of a scalar or a shape
 * moved by a loop: V8 compiles memory.copy to a call out of wasm, which costs more than that.
 */
export function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n > 64) { memory.copy(dst, src, n); return; }
  let i: usize = 0;
  for (; i + 8 <= n; i += 8) store<u64>(dst + i, load<u64>(src + i));
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
}

/** Grows or shrinks an allocation, keeping the first min(old, new) bytes. 0 on failure. */
export function realloc(ptr: u32, oldBytes: u32, bytes: u32): u32 {
  const p = alloc(bytes);
  if (p == 0) return 0;
  if (ptr != 0) {
    memory.copy(p, ptr, min(oldBytes, bytes));
    free(ptr);
  }
  return p;
}

export function allocLiveBytes(): f64 { return liveBytes; }
export function allocPeakBytes(): f64 { return peakBytes; }
export function allocLiveBlocks(): i32 { return liveBlocks; }
export function resetPeak(): void { peakBytes = liveBytes; }
export function heapBytes(): f64 { return <f64>memory.size() * 65536; }
export function setPageLimit(pages: i32): void { pageLimit = max(pages, <i32>memory.size()); }
export function getPageLimit(): i32 { return pageLimit; }
/** Bytes that could still be handed out: free bins are ignored, so this is a lower bound. */
export function availableBytes(): f64 {
  if (heapStart == 0) initHeap();
  return <f64>pageLimit * 65536 - <f64>heapTop;
}

// A synthetic stand-in for MNIST: ten classes of 14×14 "digits", each drawn from a fixed stroke
// pattern with a random shift, random stroke intensity and pixel noise. Seeded, so every run and
// every engine gets the same data.

export const SIDE = 14;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Strokes on a 10×10 grid as [x0, y0, x1, y1] segments, loosely like seven-segment digits.
const SEGMENTS = {
  a: [2, 1, 7, 1], b: [7, 1, 7, 5], c: [7, 5, 7, 9], d: [2, 9, 7, 9], e: [2, 5, 2, 9], f: [2, 1, 2, 5], g: [2, 5, 7, 5],
  slash: [7, 1, 2, 9],
};
const DIGITS = ['abcdef', 'bc', 'abged', 'abgcd', 'fgbc', 'afgcd', 'afedcg', 'a/', 'abcdefg', 'abfgcd'];

function strokes(cls) {
  return DIGITS[cls].split('').map((s) => SEGMENTS[s === '/' ? 'slash' : s]);
}

/** One image of class cls: Float32Array of 196 values in [0, 1]. */
function draw(cls, random) {
  const img = new Float32Array(PIXELS);
  const dx = Math.floor(random() * 4) + 1, dy = Math.floor(random() * 4) + 1, ink = 0.6 + random() * 0.4;
  for (const [x0, y0, x1, y1] of strokes(cls)) {
    for (let t = 0; t <= 12; t++) {
      const x = Math.round(x0 + ((x1 - x0) * t) / 12) + dx, y = Math.round(y0 + ((y1 - y0) * t) / 12) + dy;
      if (x >= 0 && x < SIDE && y >= 0 && y < SIDE) img[y * SIDE + x] = ink;
    }
  }
  for (let i = 0; i < PIXELS; i++) img[i] = Math.min(1, img[i] + random() * 0.2);
  return img;
}

/** n images (flat, n×196) and their labels, classes in turn. */
export function makeDigits(n, seed) {
  const random = rng(seed);
  const images = new Float32Array(n * PIXELS), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % CLASSES;
    images.set(draw(labels[i], random), i * PIXELS);
  }
  return { images, labels };
}

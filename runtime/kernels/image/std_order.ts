/**
 * The orders libstdc++ gives to elements that compare equal, for kernels
 * whose TF output depends on them (CombinedNonMaxSuppression: a score-only
 * std::priority_queue and an unstable std::sort). These follow the
 * algorithms of libstdc++'s bits/stl_heap.h and bits/stl_algo.h (binary heap
 * with its hole-sifting, introsort with median-of-three pivots and a final
 * insertion sort over 16-element runs), so ties come out in the same order.
 * `less(a, b)` is the C++ comparator.
 */
type Less<T> = (a: T, b: T) => boolean;

function pushHeapAt<T>(a: T[], first: number, hole: number, top: number, value: T, less: Less<T>): void {
  let parent = Math.trunc((hole - 1) / 2);
  while (hole > top && less(a[first + parent], value)) {
    a[first + hole] = a[first + parent];
    hole = parent;
    parent = Math.trunc((hole - 1) / 2);
  }
  a[first + hole] = value;
}

function adjustHeap<T>(a: T[], first: number, hole: number, len: number, value: T, less: Less<T>): void {
  const top = hole;
  let second = hole;
  while (second < Math.trunc((len - 1) / 2)) {
    second = 2 * (second + 1);
    if (less(a[first + second], a[first + second - 1])) second--;
    a[first + hole] = a[first + second];
    hole = second;
  }
  if ((len & 1) === 0 && second === Math.trunc((len - 2) / 2)) {
    second = 2 * (second + 1);
    a[first + hole] = a[first + second - 1];
    hole = second - 1;
  }
  pushHeapAt(a, first, hole, top, value, less);
}

/** pop_heap over a[first, last): the top moves to last - 1. */
function popHeap<T>(a: T[], first: number, last: number, less: Less<T>): void {
  if (last - first > 1) {
    const value = a[last - 1];
    a[last - 1] = a[first];
    adjustHeap(a, first, 0, last - 1 - first, value, less);
  }
}

/** std::priority_queue over a std::vector. */
export class StdPriorityQueue<T> {
  private c: T[] = [];
  constructor(private readonly less: Less<T>) {}
  get size(): number {
    return this.c.length;
  }
  push(v: T): void {
    this.c.push(v);
    pushHeapAt(this.c, 0, this.c.length - 1, 0, v, this.less);
  }
  top(): T {
    return this.c[0];
  }
  pop(): void {
    popHeap(this.c, 0, this.c.length, this.less);
    this.c.pop();
  }
}

function makeHeap<T>(a: T[], first: number, last: number, less: Less<T>): void {
  const len = last - first;
  if (len < 2) return;
  for (let parent = Math.trunc((len - 2) / 2); ; parent--) {
    adjustHeap(a, first, parent, len, a[first + parent], less);
    if (parent === 0) return;
  }
}

function heapSort<T>(a: T[], first: number, last: number, less: Less<T>): void {
  makeHeap(a, first, last, less);
  while (last - first > 1) {
    last--;
    // __pop_heap(first, last, last): value = *last; *last = *first; adjust.
    const value = a[last];
    a[last] = a[first];
    adjustHeap(a, first, 0, last - first, value, less);
  }
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function moveMedianToFirst<T>(a: T[], result: number, x: number, y: number, z: number, less: Less<T>): void {
  if (less(a[x], a[y])) {
    if (less(a[y], a[z])) swap(a, result, y);
    else if (less(a[x], a[z])) swap(a, result, z);
    else swap(a, result, x);
  } else if (less(a[x], a[z])) swap(a, result, x);
  else if (less(a[y], a[z])) swap(a, result, z);
  else swap(a, result, y);
}

function unguardedPartition<T>(a: T[], first: number, last: number, pivot: number, less: Less<T>): number {
  for (;;) {
    while (less(a[first], a[pivot])) first++;
    last--;
    while (less(a[pivot], a[last])) last--;
    if (!(first < last)) return first;
    swap(a, first, last);
    first++;
  }
}

function introsortLoop<T>(a: T[], first: number, last: number, depth: number, less: Less<T>): void {
  while (last - first > 16) {
    if (depth === 0) {
      heapSort(a, first, last, less);
      return;
    }
    depth--;
    const mid = first + Math.trunc((last - first) / 2);
    moveMedianToFirst(a, first, first + 1, mid, last - 1, less);
    const cut = unguardedPartition(a, first + 1, last, first, less);
    introsortLoop(a, cut, last, depth, less);
    last = cut;
  }
}

function unguardedLinearInsert<T>(a: T[], last: number, less: Less<T>): void {
  const val = a[last];
  let next = last - 1;
  while (less(val, a[next])) {
    a[last] = a[next];
    last = next;
    next--;
  }
  a[last] = val;
}

function insertionSort<T>(a: T[], first: number, last: number, less: Less<T>): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (less(a[i], a[first])) {
      const val = a[i];
      for (let k = i; k > first; k--) a[k] = a[k - 1];
      a[first] = val;
    } else {
      unguardedLinearInsert(a, i, less);
    }
  }
}

/** std::sort(a.begin(), a.end(), less). */
export function stdSort<T>(a: T[], less: Less<T>): void {
  const n = a.length;
  if (n === 0) return;
  introsortLoop(a, 0, n, 2 * Math.floor(Math.log2(n)), less);
  if (n > 16) {
    insertionSort(a, 0, 16, less);
    for (let i = 16; i < n; i++) unguardedLinearInsert(a, i, less);
  } else {
    insertionSort(a, 0, n, less);
  }
}

/**
 * Which side of a split a request falls on. The split has BUCKETS buckets;
 * a request with a routing key is hashed into one (so the same key always
 * lands on the same side while the percentage stays: sticky per client),
 * one without gets a random bucket. The candidate takes buckets below
 * percent × 100, so raising the percentage only moves stable buckets over.
 *
 * The key is the request's `X-Routing-Key` header (gRPC: `x-routing-key`
 * metadata), else its `X-Request-Id`; only its first MAX_KEY_CHARS
 * characters are hashed.
 */
export const BUCKETS = 10_000;
export const MAX_KEY_CHARS = 256;
/** Headers (lower case, as node:http and gRPC metadata spell them) that carry a routing key, first match wins. */
export const ROUTING_KEY_HEADERS = ['x-routing-key', 'x-request-id'] as const;

/** FNV-1a over UTF-16 code units of "model\0key", then murmur3's finalizer (so similar keys spread). */
export function routingBucket(model: string, key: string): number {
  let h = 0x811c9dc5;
  const text = `${model}\u0000${key.length > MAX_KEY_CHARS ? key.slice(0, MAX_KEY_CHARS) : key}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}

/** True when a request with `key` (or a random one without) falls on the candidate's side of `percent`. */
export function takesCandidate(model: string, key: string | undefined, percent: number): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const bucket = key === undefined || key === '' ? Math.floor(Math.random() * BUCKETS) : routingBucket(model, key);
  return bucket < Math.round(percent * (BUCKETS / 100));
}

/** The routing key of a request's headers (node:http's lower-case header object, or gRPC metadata read the same way). */
export function routingKeyOf(get: (name: string) => string | string[] | undefined): string | undefined {
  for (const h of ROUTING_KEY_HEADERS) {
    const v = get(h);
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string' && s !== '') return s;
  }
  return undefined;
}

/**
 * `s3://bucket/prefix/model` base paths: parsing, joining and naming. A base
 * path on object storage is a bucket plus a key prefix; version N of the
 * model lives under `{prefix}/N/`. Trailing slashes are dropped, so
 * `s3://b/m/` and `s3://b/m` are the same base path. Parsing follows TF's
 * ParseS3Path: the scheme is `s3`, the bucket is required; the prefix may be
 * empty (versions at the bucket's top).
 */
import { invalidArgument } from '../../runtime/errors.js';

export const S3_SCHEME = 's3://';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket's top). */
  prefix: string;
}

/** Whether `p` names a location on object storage (s3://...). */
export function isObjectStoreUrl(p: string): boolean {
  return p.slice(0, S3_SCHEME.length).toLowerCase() === S3_SCHEME;
}

/** Bucket names as S3 accepts them (3-63 characters: lower-case letters, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix`; INVALID_ARGUMENT naming what is wrong. */
export function parseS3Url(url: string, what = 'base path'): S3Location {
  if (!isObjectStoreUrl(url)) throw invalidArgument(`${what} ${url} is not an s3:// URL.`);
  const rest = url.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) {
    throw invalidArgument(`${what} ${url}: "${bucket}" is not a valid bucket name (3-63 characters: a-z, 0-9, ".", "-").`);
  }
  if (/[\0-\x1f\x7f]/.test(key)) throw invalidArgument(`${what} ${url} contains control characters.`);
  const segments = key.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw invalidArgument(`${what} ${url}: "." and ".." segments are not allowed in an s3:// path.`);
  return { bucket, prefix: segments.join('/') };
}

/** The canonical spelling of an s3:// base path (no trailing slash, no empty segments). */
export function normalizeS3Url(url: string, what?: string): string {
  return formatS3Url(parseS3Url(url, what));
}

export function formatS3Url(loc: S3Location): string {
  return `${S3_SCHEME}${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}`;
}

/** The key prefix of `loc`'s children: `prefix/` ('' at the bucket's top). */
export function childPrefix(loc: S3Location): string {
  return loc.prefix ? `${loc.prefix}/` : '';
}

/** `s3://b/p` + `3` → `s3://b/p/3`. */
export function joinS3Url(base: string, child: string): string {
  const loc = parseS3Url(base);
  return formatS3Url({ bucket: loc.bucket, prefix: `${childPrefix(loc)}${child}` });
}

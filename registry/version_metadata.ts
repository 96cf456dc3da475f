/**
 * What a person records about a version, beside its files: a description,
 * tags (key → text), metrics (name → finite number) and its source (who made
 * it, from where, which commit or training run), as MLflow's registry keeps
 * them. Set at upload and changed later with a merge patch; every limit
 * below is a `modelhost serve` flag (docs/registry.md#version-metadata).
 *
 *   const patch = parseMetadataPatch(JSON.parse(body), body);   // INVALID_ARGUMENT naming what is wrong
 *   const next = applyMetadataPatch(current, patch);
 *   checkMetadata(next, limits);                                 // counts and lengths
 *
 * Keys (of tags and metrics): 1 to `maxKeyChars` characters, a letter or
 * digit first, then letters, digits and `_ . - / :` ("val/accuracy",
 * "git.commit"). Text (description, tag values, source): no control
 * characters (the description may hold newlines and tabs), no lone UTF-16
 * surrogates. A key given twice in one request is refused, not merged.
 */
import { invalidArgument } from '../runtime/errors.js';

export interface VersionMetadata {
  description: string | null;
  tags: Record<string, string>;
  metrics: Record<string, number>;
  source: string | null;
}

/** A change: absent fields are kept; null clears a field or removes a key (RFC 7396 JSON merge patch). */
export interface MetadataPatch {
  description?: string | null;
  source?: string | null;
  tags?: Record<string, string | null>;
  metrics?: Record<string, number | null>;
}

export interface MetadataLimits {
  /** --metadata_max_description_chars */
  maxDescriptionChars: number;
  /** --metadata_max_tags */
  maxTags: number;
  /** --metadata_max_metrics */
  maxMetrics: number;
  /** --metadata_max_key_chars: a tag or metric key. */
  maxKeyChars: number;
  /** --metadata_max_value_chars: a tag value, and the source. */
  maxValueChars: number;
}

export const DEFAULT_METADATA_LIMITS: Readonly<MetadataLimits> = {
  maxDescriptionChars: 5000,
  maxTags: 50,
  maxMetrics: 50,
  maxKeyChars: 128,
  maxValueChars: 1000,
};

export const EMPTY_METADATA: Readonly<VersionMetadata> = Object.freeze({ description: null, tags: {}, metrics: {}, source: null });

export function emptyMetadata(): VersionMetadata {
  return { description: null, tags: {}, metrics: {}, source: null };
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A number as text: what a --metric acc=0.91 value may look like. */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const chars = (s: string) => [...s].length;
const FIELDS = ['description', 'tags', 'metrics', 'source'];

function checkKey(key: string, what: string): void {
  if (!KEY.test(key)) {
    throw invalidArgument(`${what} key ${JSON.stringify(key)} is not valid: use letters, digits and _ . - / : starting with a letter or digit.`);
  }
}

function checkText(value: string, what: string, allowLines: boolean): void {
  if ((allowLines ? CONTROL_BUT_LINES : CONTROL).test(value)) {
    throw invalidArgument(`${what} holds a control character${allowLines ? ' (only newlines and tabs are allowed)' : ''}.`);
  }
  if (LONE_SURROGATE.test(value)) throw invalidArgument(`${what} is not valid Unicode text (a lone surrogate).`);
}

function finiteMetric(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(`Metric ${key} must be a finite number, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}.`);
  }
  return value;
}

/** Reads a merge patch from a JSON body ({"description", "tags", "metrics", "source"}); `rawText` lets duplicate keys be found. */
export function parseMetadataPatch(body: unknown, rawText?: string): MetadataPatch {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('Send a JSON object with any of "description", "tags", "metrics", "source", e.g. {"tags": {"stage": "prod"}, "metrics": {"accuracy": 0.91}}.');
  }
  if (rawText !== undefined) {
    const dup = duplicateJsonKey(rawText);
    if (dup !== undefined) throw invalidArgument(`The JSON body names ${JSON.stringify(dup)} twice in one object; give each key once.`);
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) throw invalidArgument(`Unknown metadata field ${unknown.map((k) => JSON.stringify(k)).join(', ')}: use "description", "tags", "metrics", "source".`);
  const patch: MetadataPatch = {};
  for (const field of ['description', 'source'] as const) {
    if (!(field in b)) continue;
    const v = b[field];
    if (v !== null && typeof v !== 'string') throw invalidArgument(`"${field}" must be text or null (to clear it).`);
    if (typeof v === 'string') checkText(v, field === 'description' ? 'The description' : 'The source', field === 'description');
    patch[field] = v === '' ? null : v;
  }
  for (const field of ['tags', 'metrics'] as const) {
    if (!(field in b)) continue;
    const v = b[field];
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalidArgument(`"${field}" must be an object of ${field === 'tags' ? 'key → text' : 'name → number'} (null removes a key).`);
    const entries: [string, string | number | null][] = [];
    for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
      checkKey(key, field === 'tags' ? 'Tag' : 'Metric');
      if (value === null) entries.push([key, null]);
      else if (field === 'tags') {
        if (typeof value !== 'string') throw invalidArgument(`Tag ${key} must be text (or null to remove it), got ${JSON.stringify(value)}.`);
        checkText(value, `Tag ${key}`, false);
        entries.push([key, value]);
      } else entries.push([key, finiteMetric(value, key)]);
    }
    if (field === 'tags') patch.tags = Object.fromEntries(entries) as Record<string, string | null>;
    else patch.metrics = Object.fromEntries(entries) as Record<string, number | null>;
  }
  return patch;
}

/** Form fields of an upload: `description`, `source`, and `tag` / `metric` repeated as key=value. */
export interface MetadataFields {
  description?: unknown;
  source?: unknown;
  tag?: unknown;
  metric?: unknown;
}

function formList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) throw invalidArgument(`"${what}" fields must be plain text fields key=value.`);
  return list;
}

function keyValue(field: string, what: string): [string, string] {
  const at = field.indexOf('=');
  if (at <= 0) throw invalidArgument(`A "${what}" field must be key=value, got ${JSON.stringify(field.slice(0, 80))}.`);
  return [field.slice(0, at), field.slice(at + 1)];
}

/** Reads an upload's metadata fields (absent fields: no patch). Duplicate keys are refused. */
export function metadataFromFields(fields: MetadataFields): MetadataPatch {
  const patch: MetadataPatch = {};
  for (const field of ['description', 'source'] as const) {
    const v = fields[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw invalidArgument(`Give "${field}" once, as a text field.`);
    checkText(v, field === 'description' ? 'The description' : 'The source', field === 'description');
    if (v !== '') patch[field] = v;
  }
  const tags = formList(fields.tag, 'tag');
  if (tags.length > 0) {
    patch.tags = {};
    for (const f of tags) {
      const [key, value] = keyValue(f, 'tag');
      checkKey(key, 'Tag');
      if (Object.hasOwn(patch.tags, key)) throw invalidArgument(`Tag ${key} is given twice; give each tag once.`);
      checkText(value, `Tag ${key}`, false);
      patch.tags[key] = value;
    }
  }
  const metrics = formList(fields.metric, 'metric');
  if (metrics.length > 0) {
    patch.metrics = {};
    for (const f of metrics) {
      const [key, text] = keyValue(f, 'metric');
      checkKey(key, 'Metric');
      if (Object.hasOwn(patch.metrics, key)) throw invalidArgument(`Metric ${key} is given twice; give each metric once.`);
      if (!NUMBER.test(text.trim())) throw invalidArgument(`Metric ${key} must be a finite number, got ${JSON.stringify(text.slice(0, 80))}.`);
      patch.metrics[key] = finiteMetric(Number(text), key);
    }
  }
  return patch;
}

/** The metadata after `patch`; keys keep their order, new ones are added at the end. */
export function applyMetadataPatch(current: VersionMetadata, patch: MetadataPatch): VersionMetadata {
  const merge = <T>(base: Record<string, T>, change: Record<string, T | null> | undefined): Record<string, T> => {
    if (!change) return { ...base };
    const out: Record<string, T> = { ...base };
    for (const [k, v] of Object.entries(change)) {
      if (v === null) delete out[k];
      else out[k] = v;
    }
    return out;
  };
  return {
    description: patch.description !== undefined ? patch.description : current.description,
    source: patch.source !== undefined ? patch.source : current.source,
    tags: merge(current.tags, patch.tags),
    metrics: merge(current.metrics, patch.metrics),
  };
}

/** INVALID_ARGUMENT naming the limit (and its flag) that `m` goes past. */
export function checkMetadata(m: VersionMetadata, limits: MetadataLimits): void {
  if (m.description !== null && chars(m.description) > limits.maxDescriptionChars) {
    throw invalidArgument(`The description has ${chars(m.description)} characters, more than ${limits.maxDescriptionChars} (--metadata_max_description_chars).`);
  }
  if (m.source !== null && chars(m.source) > limits.maxValueChars) {
    throw invalidArgument(`The source has ${chars(m.source)} characters, more than ${limits.maxValueChars} (--metadata_max_value_chars).`);
  }
  const tags = Object.entries(m.tags);
  if (tags.length > limits.maxTags) throw invalidArgument(`A version may have at most ${limits.maxTags} tags (--metadata_max_tags); this change leaves ${tags.length}.`);
  const metrics = Object.entries(m.metrics);
  if (metrics.length > limits.maxMetrics) {
    throw invalidArgument(`A version may have at most ${limits.maxMetrics} metrics (--metadata_max_metrics); this change leaves ${metrics.length}.`);
  }
  for (const [key, value] of tags) {
    if (chars(key) > limits.maxKeyChars) throw invalidArgument(`Tag key ${key.slice(0, 40)}… has ${chars(key)} characters, more than ${limits.maxKeyChars} (--metadata_max_key_chars).`);
    if (chars(value) > limits.maxValueChars) throw invalidArgument(`Tag ${key} has a value of ${chars(value)} characters, more than ${limits.maxValueChars} (--metadata_max_value_chars).`);
  }
  for (const [key] of metrics) {
    if (chars(key) > limits.maxKeyChars) throw invalidArgument(`Metric name ${key.slice(0, 40)}… has ${chars(key)} characters, more than ${limits.maxKeyChars} (--metadata_max_key_chars).`);
  }
}

export function isEmptyPatch(p: MetadataPatch): boolean {
  return p.description === undefined && p.source === undefined && (!p.tags || Object.keys(p.tags).length === 0) && (!p.metrics || Object.keys(p.metrics).length === 0);
}

const short = (s: string) => (chars(s) > 40 ? `${[...s].slice(0, 40).join('')}…` : s);

/** What changed from `before` to `after`, for the history ("tags set: stage=prod; metrics removed: loss"), or '' when nothing did. */
export function describeMetadataChange(before: VersionMetadata, after: VersionMetadata): string {
  const parts: string[] = [];
  for (const field of ['description', 'source'] as const) {
    if (before[field] === after[field]) continue;
    parts.push(after[field] === null ? `${field} cleared` : `${field} ${before[field] === null ? 'set' : 'changed'}`);
  }
  for (const field of ['tags', 'metrics'] as const) {
    const b = before[field] as Record<string, string | number>;
    const a = after[field] as Record<string, string | number>;
    const set = Object.entries(a).filter(([k, v]) => !Object.hasOwn(b, k) || b[k] !== v).map(([k, v]) => `${k}=${short(String(v))}`);
    const removed = Object.keys(b).filter((k) => !Object.hasOwn(a, k));
    if (set.length > 0) parts.push(`${field} set: ${set.join(', ')}`);
    if (removed.length > 0) parts.push(`${field} removed: ${removed.join(', ')}`);
  }
  return parts.join('; ');
}

/**
 * The first key that appears twice in one object of a JSON text (JSON.parse
 * silently keeps the last one), or undefined. Expects text JSON.parse accepted.
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One frame per open object or array: the keys seen so far (objects), and whether the next string is a key.
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: null, expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys) top.expectKey = true;
  }
  return undefined;
}

/** The metadata as the API shows it (snake_case is the same here). */
export function metadataJson(m: VersionMetadata) {
  return { description: m.description, tags: { ...m.tags }, metrics: { ...m.metrics }, source: m.source };
}

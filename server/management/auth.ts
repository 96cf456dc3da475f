/**
 * Who may change the registry through `/api/v1`. Reads (GET, HEAD) are open.
 * Mutating calls:
 *  - with an admin token set ($MODELHOST_ADMIN_TOKEN, --admin_token_file or
 *    --admin_token) need `Authorization: Bearer <token>`: 401 without it,
 *    403 with a wrong one;
 *  - with no token set are accepted only from loopback clients (127.0.0.0/8,
 *    ::1) that connect directly (no proxy: no Forwarded, X-Forwarded-*,
 *    X-Real-IP or Via header, and not from a --trusted_proxies address)
 *    and address the server as a loopback host; the refusal says how to set
 *    a token. --require_admin_token makes a token mandatory at startup, so
 *    this loopback right never applies;
 *  - sent by a browser on behalf of another site (Origin or Sec-Fetch-Site)
 *    are refused in every case.
 * The client's address is the connection's, or, when the connection comes
 * from a trusted proxy, the first address in X-Forwarded-For, read from the
 * right, that is not itself a trusted proxy. The history's actor is the
 * identity that was checked (`token@<client>` or `loopback@<client>`); an
 * X-Modelhost-Actor header is recorded only as a claim.
 * The check runs before the body is read, so a refused upload writes nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { StatusError } from '../../runtime/errors.js';

export const ADMIN_TOKEN_ENV = 'MODELHOST_ADMIN_TOKEN';

/** The addresses (IPs and CIDR ranges) of reverse proxies whose X-Forwarded-For is believed. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly entries: readonly string[];

  /** Throws on an entry that is not an IP address or CIDR range (for --trusted_proxies). */
  constructor(entries: readonly string[] = []) {
    this.entries = entries.map((e) => e.trim()).filter((e) => e !== '');
    for (const entry of this.entries) {
      const [ip, bits, extra] = entry.split('/');
      const family = isIP(ip);
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
        throw new Error(`--trusted_proxies: ${JSON.stringify(entry)} is not an IP address or CIDR range (like 127.0.0.1, 10.0.0.0/8 or ::1).`);
      }
      this.list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.entries.length > 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** How mutating calls are authorised (see the module comment). */
export interface AccessPolicy {
  adminToken?: string;
  trustedProxies?: TrustedProxies;
  /** Refuse every change when no token is set (startServer refuses to start so). */
  requireAdminToken?: boolean;
}

/** Headers a reverse proxy adds; any of them means the request did not come straight from its sender. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

const plainAddress = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

export interface Client {
  /** The client's address: the connection's, or from X-Forwarded-For behind a trusted proxy ("unknown" if that is not an IP). */
  address: string;
  /** Came through a proxy: a forwarding header, or a connection from a trusted proxy. */
  proxied: boolean;
}

/** Who sent `req`, as far as the connection and the trusted proxies tell. */
export function clientOf(req: IncomingMessage, proxies: TrustedProxies | undefined): Client {
  const remote = plainAddress(req.socket.remoteAddress ?? 'unknown');
  const headers = PROXY_HEADERS.some((h) => req.headers[h] !== undefined);
  if (!proxies?.has(remote)) return { address: remote, proxied: headers };
  const forwarded = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((h) => h.trim()).filter((h) => h !== '');
  let address = remote;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plainAddress(hops[i]);
    if (isIP(hop) === 0) {
      address = 'unknown';
      break;
    }
    address = hop;
    if (!proxies.has(hop)) break;
  }
  return { address, proxied: true };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function sameToken(given: string, expected: string): boolean {
  // Hash first so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
}

type Decision = 'ok' | 'cross_site' | 'no_token' | 'bad_token' | 'none_set' | 'proxied' | 'not_loopback' | 'foreign_host';

/** Host names that reach this machine only: localhost, *.localhost, 127.x.y.z, [::1]. */
function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  const lower = name.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(lower) || lower === '[::1]';
}

/**
 * A browser request made by another site: its Origin (or Sec-Fetch-Site)
 * says so. Such requests are refused even with a valid token or from
 * loopback, so a page elsewhere cannot pin, roll back or upload through a
 * visitor's browser (a form POST needs no CORS preflight). Clients that send
 * no Origin (the CLI, curl, SDKs) are unaffected.
 */
function isCrossSite(req: IncomingMessage): boolean {
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() !== (req.headers.host ?? '').toLowerCase();
  } catch {
    return true; // "null" (sandboxed frames, file:) or garbage
  }
}

/** The one access rule for a mutating call (see the module comment). */
function decide(req: IncomingMessage, policy: AccessPolicy): Decision {
  if (isCrossSite(req)) return 'cross_site';
  const { adminToken } = policy;
  if (adminToken) {
    const token = bearerToken(req);
    if (token === undefined) return 'no_token';
    return sameToken(token, adminToken) ? 'ok' : 'bad_token';
  }
  if (policy.requireAdminToken) return 'none_set';
  if (clientOf(req, policy.trustedProxies).proxied) return 'proxied';
  if (!isLoopbackAddress(req.socket.remoteAddress)) return 'not_loopback';
  // A loopback client naming another host is a browser led here by DNS rebinding.
  if (req.headers.host !== undefined && !isLoopbackHost(req.headers.host)) return 'foreign_host';
  return 'ok';
}

/**
 * What `GET /api/v1/access` answers: whether the server has an admin token,
 * and whether a change sent like this request (its Authorization header, its
 * address, its origin) would be accepted. Lets a client ask for the token
 * before a change is refused, and check a token without changing anything.
 */
export function accessOf(req: IncomingMessage, policy: AccessPolicy): { admin_token_required: boolean; changes_allowed: boolean } {
  const required = (policy.adminToken !== undefined && policy.adminToken !== '') || policy.requireAdminToken === true;
  return { admin_token_required: required, changes_allowed: decide(req, policy) === 'ok' };
}

/** Throws the refusal for `req`, or returns when it may proceed. */
export function checkAdminAccess(req: IncomingMessage, policy: AccessPolicy): void {
  if (READ_METHODS.has(req.method ?? 'GET')) return;
  switch (decide(req, policy)) {
    case 'ok':
      return;
    case 'cross_site':
      throw new StatusError(
        'PERMISSION_DENIED',
        `Refused a change sent by another site (Origin ${req.headers.origin ?? 'unknown'}, this server is ${req.headers.host ?? 'unknown'}). ` +
          'Make changes from the console this server serves, the CLI, or a client that sends no Origin header.',
      );
    case 'no_token':
      throw new StatusError(
        'UNAUTHENTICATED',
        `This call changes the registry and needs the admin token: send "Authorization: Bearer <token>" (the server's ${ADMIN_TOKEN_ENV} or --admin_token_file; the CLI reads ${ADMIN_TOKEN_ENV}).`,
      );
    case 'none_set':
      throw new StatusError(
        'UNAUTHENTICATED',
        `This server requires the admin token for every change (--require_admin_token) but has none set: start it with ${ADMIN_TOKEN_ENV} or --admin_token_file.`,
      );
    case 'proxied':
      throw new StatusError(
        'PERMISSION_DENIED',
        'No admin token is set on this server, so changes are accepted only from clients on its own machine that connect directly, ' +
          'and this request came through a proxy (a Forwarded, X-Forwarded-*, X-Real-IP or Via header, or a --trusted_proxies address). ' +
          `Start the server with ${ADMIN_TOKEN_ENV} or --admin_token_file and send "Authorization: Bearer <token>".`,
      );
    case 'bad_token':
      throw new StatusError('PERMISSION_DENIED', "The bearer token is not this server's admin token.");
    case 'not_loopback':
      throw new StatusError(
        'PERMISSION_DENIED',
        `No admin token is set on this server, so calls that change the registry are accepted only from the machine it runs on. ` +
          `Start it with ${ADMIN_TOKEN_ENV}=<token> (or --admin_token_file=<file>) and send "Authorization: Bearer <token>".`,
      );
    case 'foreign_host':
      throw new StatusError(
        'PERMISSION_DENIED',
        `No admin token is set on this server, so changes are accepted only when it is addressed as localhost or 127.0.0.1 (this request named ${req.headers.host}). ` +
          `Use http://localhost:<port>, or start it with ${ADMIN_TOKEN_ENV}=<token> (or --admin_token_file=<file>).`,
      );
  }
}

/**
 * Who made a change, for the event history, once checkAdminAccess let it
 * through: how it was authorised and from where (`token@10.0.0.5`,
 * `loopback@127.0.0.1`), then what the client's X-Modelhost-Actor header
 * claims, marked as a claim (`token@10.0.0.5 (claims "cli:alice")`).
 */
export function actorOf(req: IncomingMessage, policy: AccessPolicy): string {
  const header = req.headers['x-modelhost-actor'];
  const claim = typeof header === 'string' ? header.replace(/[^\x21-\x7e]/g, '').replace(/"/g, "'").slice(0, 64) : '';
  const how = policy.adminToken ? 'token' : 'loopback';
  return `${how}@${clientOf(req, policy.trustedProxies).address}${claim ? ` (claims "${claim}")` : ''}`;
}

/**
 * The admin token from its sources, for `modelhost serve`: --admin_token_file
 * (read now; trailing newline trimmed; a missing or empty file is an error),
 * else --admin_token (which every user of the machine can read in the
 * process list: warned), else $MODELHOST_ADMIN_TOKEN. Throws with what to fix.
 */
export function resolveAdminToken(
  sources: { flag?: string; file?: string; env?: string },
  warn: (message: string) => void,
): string | undefined {
  if (sources.flag !== undefined && sources.file !== undefined) throw new Error('Give the admin token by --admin_token_file or --admin_token, not both.');
  if (sources.file !== undefined) {
    let text: string;
    let mode: number;
    try {
      text = fs.readFileSync(sources.file, 'utf8');
      mode = fs.statSync(sources.file).mode;
    } catch (e) {
      throw new Error(`--admin_token_file: cannot read ${sources.file}: ${(e as Error).message}`);
    }
    const token = text.replace(/[\r\n]+$/, '').trim();
    if (token === '') throw new Error(`--admin_token_file: ${sources.file} is empty; write the token in it.`);
    if (/\s/.test(token)) throw new Error(`--admin_token_file: ${sources.file} holds more than one line or word; write only the token.`);
    if (mode & 0o004) warn(`--admin_token_file: ${sources.file} is readable by every user of this machine (chmod 600 it, unless a container secret mount requires otherwise).`);
    return token;
  }
  if (sources.flag !== undefined) {
    warn(`--admin_token on the command line is visible to every user of this machine (ps); use ${ADMIN_TOKEN_ENV} or --admin_token_file instead.`);
    if (sources.flag !== '') return sources.flag;
  }
  return sources.env || undefined;
}

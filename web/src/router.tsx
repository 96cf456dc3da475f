// Client-side routes, on the History API. The server answers index.html for
// each of them (server/management/web_console.ts):
//   /                 the models overview
//   /models/{name}    one model
//   /models/{name}/versions/{n}    one version: metadata, signature diff
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'model'; model: string }
  | { page: 'version'; model: string; version: number }
  | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  if (pathname === '/' || pathname === '/models' || pathname === '/models/' || pathname === '/index.html') return { page: 'overview' };
  const v = /^\/models\/([^/]+)\/versions\/(\d{1,15})\/?$/.exec(pathname);
  if (v) {
    try {
      return { page: 'version', model: decodeURIComponent(v[1]), version: Number(v[2]) };
    } catch {
      // malformed escape: not a route
    }
  }
  const m = /^\/models\/([^/]+)\/?$/.exec(pathname);
  if (m) {
    try {
      return { page: 'model', model: decodeURIComponent(m[1]) };
    } catch {
      // malformed escape: not a route
    }
  }
  return { page: 'not_found', path: pathname };
}

export const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;
export const versionHref = (name: string, version: number) => `${modelHref(name)}/versions/${version}`;

const listeners = new Set<() => void>();

export function navigate(href: string): void {
  if (href === location.pathname + location.search) return;
  history.pushState(null, '', href);
  for (const l of [...listeners]) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

interface LinkProps {
  href: string;
  children: ComponentChildren;
  class?: string;
  'aria-current'?: 'page';
}

/** An ordinary link that navigates without a reload (modified clicks open tabs as usual). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

// The console's shell: header, read-only notice, the page for the route,
// notices and the admin-token dialog.
import { useEffect } from 'preact/hooks';
import { access, forgetToken, refreshAccess, storedToken } from './api/auth.js';
import { Notices } from './components/notices.js';
import { TokenDialog } from './components/token_dialog.js';
import { useStore } from './lib/store.js';
import { ModelPage } from './pages/model_page.js';
import { OverviewPage } from './pages/overview_page.js';
import { PageTitle } from './pages/page_title.js';
import { VersionPage } from './pages/version_page.js';
import { Link, useRoute } from './router.js';

export function App() {
  const route = useRoute();
  const known = useStore(access);

  useEffect(() => {
    refreshAccess().catch(() => undefined);
  }, []);

  // Read-only: no token on the server and this browser is not on its machine.
  const readOnly = known !== null && !known.admin_token_required && !known.changes_allowed;
  const canChange = !readOnly;
  const hasToken = known?.admin_token_required && storedToken() !== null;

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href="/" class="brand">
            <img src="/favicon.svg" alt="" width={24} height={24} />
            <span>modelhost</span>
          </Link>
          <nav aria-label="Main">
            <Link href="/" aria-current={route.page === 'overview' ? 'page' : undefined}>
              Models
            </Link>
          </nav>
          {hasToken && (
            <button type="button" class="link-button topbar-token" onClick={forgetToken}>
              Forget admin token
            </button>
          )}
        </div>
      </header>
      {readOnly && (
        <p class="banner" role="note">
          Read-only: this server has no admin token and accepts changes only from its own machine. Start it with <code>--admin_token</code> to manage
          it from here.
        </p>
      )}
      <main id="main" class="container">
        {route.page === 'overview' && <OverviewPage canChange={canChange} />}
        {route.page === 'model' && <ModelPage key={route.model} name={route.model} canChange={canChange} />}
        {route.page === 'version' && <VersionPage key={`${route.model}/${route.version}`} name={route.model} version={route.version} canChange={canChange} />}
        {route.page === 'not_found' && (
          <>
            <PageTitle title="Not found" />
            <p>
              Nothing here at <code>{route.path}</code>. <Link href="/">See all models</Link>.
            </p>
          </>
        )}
      </main>
      <Notices />
      <TokenDialog />
    </>
  );
}

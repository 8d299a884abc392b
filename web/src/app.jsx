import { useCallback, useEffect, useState } from 'preact/hooks';
import { t, setLocale, chooseLocale, getLocale, LOCALES, STORAGE_KEY } from './i18n.js';
import { get, del, setCsrfToken, onUnauthenticated } from './api.js';
import { loadCurrencies } from './format.js';
import { loadDirectory } from './directory.js';
import { Link, navigate, useLocation } from './router.js';
import { ErrorBox, Loading, PageTitle } from './components.jsx';
import { Session } from './session.js';
import { may } from './permissions.js';
import { mayOperate } from './ops.js';


// One chunk per screen: the first page loads the shell and the screen it shows, nothing more.
function lazy(loader) {
  let Comp = null;
  let failed = null;
  let pending = null;
  return function LazyScreen(props) {
    const [, rerender] = useState(0);
    useEffect(() => {
      if (Comp) return undefined;
      let live = true;
      pending = pending || loader().then((m) => { Comp = m.default; }, (e) => { failed = e; pending = null; });
      pending.then(() => live && rerender((n) => n + 1));
      return () => { live = false; };
    }, []);
    if (Comp) return <Comp {...props} />;
    if (failed) {
      return (
        <div class="alert alert-error" role="alert">
          <p class="alert-title">{t('error.chunk')}</p>
          <button type="button" class="btn" onClick={() => location.reload()}>{t('common.reload')}</button>
        </div>
      );
    }
    return <Loading />;
  };
}

const SignIn = lazy(() => import('./screens/SignIn.jsx'));
const Approvals = lazy(() => import('./screens/Approvals.jsx'));
const ApprovalDetail = lazy(() => import('./screens/ApprovalDetail.jsx'));
const Delegations = lazy(() => import('./screens/Delegations.jsx'));
const Sales = lazy(() => import('./screens/Sales.jsx'));
const Contract = lazy(() => import('./screens/Contract.jsx'));
const Operations = lazy(() => import('./screens/Operations.jsx'));
const Expenses = lazy(() => import('./screens/Expenses.jsx'));
const ClaimForm = lazy(() => import('./screens/ClaimForm.jsx'));
const Statements = lazy(() => import('./screens/Statements.jsx'));
const StatementDetail = lazy(() => import('./screens/StatementDetail.jsx'));
const Audit = lazy(() => import('./screens/Audit.jsx'));

function storedLocale() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function LanguageSwitch({ onChange }) {
  return (
    <div class="lang">
      <label for="lang-select" class="visually-hidden">{t('shell.language')}</label>
      <select id="lang-select" value={getLocale()} onChange={(e) => onChange(e.currentTarget.value)}>
        {LOCALES.map((l) => (
          <option key={l.id} value={l.id} lang={l.id}>{l.label}</option>
        ))}
      </select>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <PageTitle text={t('notfound.title')} />
      <p>{t('notfound.body')}</p>
      <p><Link href="/approvals">{t('nav.approvals')}</Link></p>
    </section>
  );
}

function screenFor(path) {
  if (path === '/approvals') return <Approvals />;
  const m = /^\/approvals\/([^/]+)\/?$/.exec(path);
  if (m) return <ApprovalDetail id={decodeURIComponent(m[1])} />;
  if (path === '/delegations') return <Delegations />;
  const sales = /^\/sales(?:\/(stale|forecast|quotas|contracts))?\/?$/.exec(path);
  if (sales) return <Sales view={sales[1] || 'board'} />;
  const contract = /^\/sales\/contracts\/([^/]+)\/?$/.exec(path);
  if (contract) return <Contract id={decodeURIComponent(contract[1])} />;
  const ops = /^\/operations(?:\/(sync|users|sectors|idle))?\/?$/.exec(path);
  if (ops) return <Operations part={ops[1] || 'plugins'} />;
  if (path === '/expenses') return <Expenses />;
  const claim = /^\/expenses\/claims\/([^/]+)\/?$/.exec(path);
  if (claim) return <ClaimForm id={decodeURIComponent(claim[1])} />;
  if (path === '/statements') return <Statements />;
  const statement = /^\/statements\/([^/]+)\/?$/.exec(path);
  if (statement) return <StatementDetail id={decodeURIComponent(statement[1])} />;
  if (path === '/audit') return <Audit />;
  return <NotFound />;
}

const NAV = [
  { href: '/approvals', key: 'nav.approvals', match: (p) => p === '/approvals' || p.startsWith('/approvals/') },
  { href: '/delegations', key: 'nav.delegations', match: (p) => p === '/delegations' },
  { href: '/sales', key: 'nav.sales', match: (p) => p === '/sales' || p.startsWith('/sales/'), show: (u) => may(u, 'pipeline.opportunity.read') },
  { href: '/operations', key: 'nav.operations', match: (p) => p === '/operations' || p.startsWith('/operations/'), show: (u) => mayOperate(u) },
  // Shown to those whose permissions reach them; the API decides what each lists.
  { href: '/expenses', key: 'nav.expenses', match: (p) => p.startsWith('/expenses'), show: (u) => may(u, 'expenses.claim.write') || may(u, 'expenses.advance.write') },
  { href: '/statements', key: 'nav.statements', match: (p) => p.startsWith('/statements'), show: (u) => may(u, 'relationship.statement.read') },
  { href: '/audit', key: 'nav.audit', match: (p) => p === '/audit', show: (u) => may(u, 'annex.audit.view') },
];

export function App() {
  const [, setLocaleState] = useState(() => {
    const id = chooseLocale(storedLocale(), typeof navigator !== 'undefined' ? navigator.languages : []);
    setLocale(id);
    return id;
  });
  const [session, setSession] = useState(/** @type {{state: string, user?: any, error?: any}} */ ({ state: 'loading' }));
  const [notice, setNotice] = useState(/** @type {null|'expired'|'signedout'} */ (null));
  const loc = useLocation();

  const enter = useCallback(async (signedIn) => {
    setCsrfToken(signedIn.csrf_token);
    let me = signedIn;
    // Sign-in answers the account; its roles and permissions come with "who am I".
    if (!Array.isArray(me.permissions)) {
      try {
        me = { ...me, ...(await get('/api/v1/auth/me', { expect401: true })) };
        if (me.csrf_token) setCsrfToken(me.csrf_token);
      } catch (err) {
        setSession(err && err.status === 401 ? { state: 'anon' } : { state: 'error', error: err });
        return;
      }
    }
    await Promise.allSettled([loadCurrencies(), loadDirectory(me)]);
    setNotice(null);
    setSession({ state: 'in', user: me });
  }, []);

  const check = useCallback(() => {
    setSession({ state: 'loading' });
    get('/api/v1/auth/me', { expect401: true }).then(enter, (err) => {
      setSession(err && err.status === 401 ? { state: 'anon' } : { state: 'error', error: err });
    });
  }, [enter]);

  useEffect(() => {
    onUnauthenticated(() => {
      setCsrfToken(null);
      setSession((s) => {
        if (s.state === 'in') setNotice('expired');
        return { state: 'anon' };
      });
    });
    check();
  }, [check]);

  // Signed out: every path shows sign-in, and returns there after. Signed in: /signin goes on.
  useEffect(() => {
    if (session.state === 'anon' && loc.path !== '/signin') {
      const next = loc.path + loc.search;
      navigate(`/signin${next && next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
    } else if (session.state === 'in' && (loc.path === '/signin' || loc.path === '/')) {
      const next = new URLSearchParams(loc.search).get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/approvals', { replace: true });
    }
  }, [session.state, loc.path, loc.search]);

  const changeLanguage = (id) => {
    setLocale(id);
    setLocaleState(id);
  };

  const signOut = async () => {
    try {
      await del('/api/v1/auth/session', { expect401: true });
    } catch {
      // the session may have ended already; signing out locally is what matters
    }
    setCsrfToken(null);
    setNotice('signedout');
    setSession({ state: 'anon' });
  };

  const user = session.state === 'in' ? session.user : null;
  let content;
  if (session.state === 'loading') content = <Loading />;
  else if (session.state === 'error') {
    content = (
      <section>
        <PageTitle text={t('shell.unavailable')} />
        <ErrorBox error={session.error} onRetry={check} />
      </section>
    );
  } else if (!user) content = loc.path === '/signin' ? <SignIn onSignedIn={enter} notice={notice} /> : <Loading />;
  else content = screenFor(loc.path);

  return (
    <Session.Provider value={{ user }}>
      <a class="skip-link" href="#main">{t('shell.skip')}</a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">A</span>
            <span class="brand-name">Annex</span>
          </Link>
          {user && (
            <nav class="mainnav" aria-label={t('shell.nav')}>
              <ul>
                {NAV.filter((n) => !n.show || n.show(user)).map((n) => (
                  <li key={n.href}>
                    <Link href={n.href} aria-current={n.match(loc.path) ? 'page' : undefined}>{t(n.key)}</Link>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <div class="topbar-tools">
            <LanguageSwitch onChange={changeLanguage} />
            {user && (
              <span class="whoami" title={user.login}>
                <span class="visually-hidden">{t('shell.signedInAs')} </span>
                {user.display_name || user.login}
              </span>
            )}
            {user && (
              <button type="button" class="btn btn-quiet" onClick={signOut}>{t('shell.signout')}</button>
            )}
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1} class={user ? 'page' : 'page page-narrow'}>
        {content}
      </main>
      <footer class="footer">
        <p>{t('shell.footer')}</p>
      </footer>
    </Session.Provider>
  );
}

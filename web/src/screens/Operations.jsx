// Operations, for administrators: plugins and their states, sync connections with their runs and dead letters,
// users with their roles and sectors, sectors, and idle accounts. Each part appears only for a user whose
// permissions reach it; the API decides what each lists.
import { useEffect, useState } from 'preact/hooks';
import { t, has } from '../i18n.js';
import { get, post, seg } from '../api.js';
import { instant, count } from '../format.js';
import { may } from '../permissions.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, Notice, PageTitle, Status, useLoad } from '../components.jsx';
import { useSession } from '../session.js';
import { opsParts } from '../ops.js';
import '../sales/sales.css';

const HREF = { plugins: '/operations', sync: '/operations/sync', users: '/operations/users', sectors: '/operations/sectors', idle: '/operations/idle' };

export default function Operations({ part = 'plugins' }) {
  const { user } = useSession();
  const parts = opsParts(user);
  const current = parts.find((p) => p.id === part) || parts[0];
  if (!current) {
    return (
      <section aria-labelledby="ops-title">
        <PageTitle id="ops-title" text={t('ops.title')} />
        <p class="empty" data-testid="ops-refused">{t('ops.notForYou')}</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="ops-title">
      <div class="page-head">
        <PageTitle id="ops-title" text={`${t('ops.title')} · ${t(`ops.part.${current.id}`)}`} />
      </div>
      <nav class="subnav" aria-label={t('ops.parts')}>
        <ul>
          {parts.map((p) => (
            <li key={p.id}><Link href={HREF[p.id]} aria-current={p.id === current.id ? 'page' : undefined}>{t(`ops.part.${p.id}`)}</Link></li>
          ))}
        </ul>
      </nav>
      {current.id === 'plugins' && <Plugins />}
      {current.id === 'sync' && <Sync user={user} />}
      {current.id === 'users' && <Users />}
      {current.id === 'sectors' && <Sectors />}
      {current.id === 'idle' && <Idle />}
    </section>
  );
}

function Plugins() {
  const { data, error, loading, reload } = useLoad((signal) => get('/api/v1/plugins', { signal }), []);
  const items = (data && data.items) || [];
  return (
    <div>
      <div class="toolbar">
        <p class="lead">{t('ops.plugins.lead')}</p>
        <button type="button" class="btn" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('ops.plugins.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="plugins-table">
            <caption>{t('ops.plugins.caption', { count: count(items.length), failing: count(items.filter((p) => p.state !== 'started' && p.state !== 'disabled').length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ops.plugins.col.name')}</th>
                <th scope="col">{t('ops.plugins.col.version')}</th>
                <th scope="col">{t('ops.plugins.col.kind')}</th>
                <th scope="col">{t('ops.plugins.col.state')}</th>
                <th scope="col">{t('ops.plugins.col.error')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <th scope="row" data-label={t('ops.plugins.col.name')}>
                    {p.name || p.id}
                    <div class="muted small"><code>{p.id}</code></div>
                  </th>
                  <td data-label={t('ops.plugins.col.version')}>{p.version}{p.abi && <span class="muted"> · ABI {p.abi}</span>}</td>
                  <td data-label={t('ops.plugins.col.kind')}>{labelOr(`ops.plugins.kind.${p.kind}`, p.kind)}</td>
                  <td data-label={t('ops.plugins.col.state')}><Status value={`plugin_${p.state}`} /></td>
                  <td data-label={t('ops.plugins.col.error')}>
                    {p.error ? <span class="prewrap">{p.error}{p.error_field && <span class="muted"> ({t('error.field', { field: p.error_field })})</span>}</span> : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Sync({ user }) {
  const operate = may(user, 'annex.sync.operate');
  const connections = useLoad((signal) => get('/api/v1/sync/connections', { signal }), []);
  const runs = useLoad((signal) => get('/api/v1/sync/runs', { signal }), []);
  const dead = useLoad((signal) => get('/api/v1/sync/dead-letters', { signal }), []);
  const [outcome, setOutcome] = useState(null);
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState('');
  const running = ((runs.data && runs.data.items) || []).some((r) => r.status === 'running');
  // While a run is in progress its counts change: read them again every few seconds.
  useEffect(() => {
    if (!running) return undefined;
    const timer = setTimeout(() => runs.reload(), 3000);
    return () => clearTimeout(timer);
  }, [running, runs.data]);

  const act = async (key, fn, done) => {
    setBusy(key);
    setOutcome(null);
    setFailure(null);
    try {
      const r = await fn();
      setOutcome(done(r));
      runs.reload();
      dead.reload();
      connections.reload();
    } catch (err) {
      // A check that reached no one answers 502 with what went wrong, in its own shape.
      if (err && err.status === 502 && err.body && err.body.ok === false) setFailure({ unreachable: key.replace(/^check-/, ''), detail: String(err.body.detail || '') });
      else setFailure(err);
    } finally {
      setBusy('');
    }
  };
  const conns = (connections.data && connections.data.items) || [];
  const runItems = (runs.data && runs.data.items) || [];
  const letters = (dead.data && dead.data.items) || [];
  return (
    <div>
      <p class="lead">{t('ops.sync.lead')}</p>
      {outcome && <Notice kind="ok">{outcome}</Notice>}
      {failure && failure.unreachable !== undefined ? (
        <div class="alert alert-error" role="alert">
          <p class="alert-title">{t('ops.sync.unreachable', { name: failure.unreachable })}</p>
          {failure.detail && <p class="alert-detail">{t('error.detail', { detail: failure.detail })}</p>}
        </div>
      ) : <ErrorBox error={failure} />}
      <h2 id="sync-connections">{t('ops.sync.connections')}</h2>
      {connections.loading && !connections.data && <Loading />}
      <ErrorBox error={connections.error} onRetry={connections.reload} />
      {connections.data && conns.length === 0 && <p class="empty">{t('ops.sync.noConnections')}</p>}
      {conns.map((c) => (
        <div class="panel" key={c.name}>
          <h3>{t('ops.sync.connection', { name: c.name, connector: c.connector })}</h3>
          <ul class="plain-list">
            {(c.streams || []).map((s) => (
              <li key={s.name}>
                {t('ops.sync.stream', {
                  name: s.name, what: s.entity || s.documents || '—', direction: t(`ops.sync.direction.${s.direction}`), every: count(s.schedule_s || 0), pending: count(s.pending_pushes || 0),
                })}
              </li>
            ))}
          </ul>
          {operate && (
            <div class="actions-row">
              <button type="button" class="btn" disabled={!!busy}
                onClick={() => act(`check-${c.name}`, () => post(`/api/v1/sync/connections/${seg(c.name)}/check`), (r) => t('ops.sync.checked', { name: c.name, detail: (r && r.detail) || '' }))}>
                {t('ops.sync.check')}
              </button>
              <button type="button" class="btn btn-primary" disabled={!!busy}
                onClick={() => act(`run-${c.name}`, () => post(`/api/v1/sync/connections/${seg(c.name)}/runs`, {}), () => t('ops.sync.started', { name: c.name }))}>
                {t('ops.sync.run')}
              </button>
            </div>
          )}
        </div>
      ))}

      <div class="toolbar">
        <h2 id="sync-runs">{t('ops.sync.runs')}</h2>
        <button type="button" class="btn" onClick={runs.reload} disabled={runs.loading}>{t('common.refresh')}</button>
      </div>
      {runs.loading && !runs.data && <Loading />}
      <ErrorBox error={runs.error} onRetry={runs.reload} />
      {runs.data && runItems.length === 0 && <p class="empty">{t('ops.sync.noRuns')}</p>}
      {runItems.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" aria-labelledby="sync-runs">
            <thead>
              <tr>
                <th scope="col">{t('ops.sync.col.started')}</th>
                <th scope="col">{t('ops.sync.col.stream')}</th>
                <th scope="col">{t('ops.sync.col.status')}</th>
                <th scope="col" class="num">{t('ops.sync.col.counts')}</th>
                <th scope="col" class="num">{t('ops.sync.col.duration')}</th>
                <th scope="col">{t('ops.sync.col.error')}</th>
              </tr>
            </thead>
            <tbody>
              {runItems.map((r) => (
                <tr key={r.id}>
                  <th scope="row" data-label={t('ops.sync.col.started')}>{instant(r.started_at)}</th>
                  <td data-label={t('ops.sync.col.stream')}>{`${r.connection} / ${r.stream}`} <span class="muted">({t(`ops.sync.direction.${r.direction}`)}{r.dry_run ? `, ${t('ops.sync.dryRun')}` : ''})</span></td>
                  <td data-label={t('ops.sync.col.status')}><Status value={`run_${r.status}`} /></td>
                  <td class="num" data-label={t('ops.sync.col.counts')}>
                    {t('ops.sync.counts', { read: count(r.read), created: count(r.created), updated: count(r.updated), unchanged: count(r.unchanged), rejected: count(r.rejected) })}
                  </td>
                  <td class="num" data-label={t('ops.sync.col.duration')}>{t('ops.sync.ms', { ms: count(r.duration_ms || 0) })}</td>
                  <td data-label={t('ops.sync.col.error')}>{r.error ? <span class="prewrap">{r.error}</span> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2 id="sync-dead">{t('ops.sync.dead')}</h2>
      {dead.loading && !dead.data && <Loading />}
      <ErrorBox error={dead.error} onRetry={dead.reload} />
      {dead.data && letters.length === 0 && <p class="empty">{t('ops.sync.noDead')}</p>}
      {letters.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" aria-labelledby="sync-dead">
            <thead>
              <tr>
                <th scope="col">{t('ops.sync.col.seq')}</th>
                <th scope="col">{t('ops.sync.col.stream')}</th>
                <th scope="col">{t('ops.sync.col.reason')}</th>
                <th scope="col">{t('ops.sync.col.parked')}</th>
                {operate && <th scope="col">{t('ops.sync.col.actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {letters.map((d) => (
                <tr key={d.seq}>
                  <th scope="row" data-label={t('ops.sync.col.seq')}>{d.seq}</th>
                  <td data-label={t('ops.sync.col.stream')}>{`${d.connection} / ${d.stream}`}</td>
                  <td data-label={t('ops.sync.col.reason')}><span class="prewrap">{d.reason}</span></td>
                  <td data-label={t('ops.sync.col.parked')}>{instant(d.created_at)}</td>
                  {operate && (
                    <td data-label={t('ops.sync.col.actions')}>
                      <button type="button" class="btn btn-small" disabled={!!busy} aria-label={t('ops.sync.replayOne', { seq: d.seq })}
                        onClick={() => act(`replay-${d.seq}`, () => post(`/api/v1/sync/dead-letters/${seg(d.seq)}/replay`), () => t('ops.sync.replayed', { seq: d.seq }))}>
                        {t('ops.sync.replay')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function UserDetail({ id, sectors }) {
  const { data, error, loading } = useLoad((signal) => get(`/api/v1/users/${seg(id)}`, { signal }), [id]);
  const sectorName = (s) => (sectors || []).find((x) => x.id === s)?.name || s;
  if (loading && !data) return <Loading />;
  if (error) return <ErrorBox error={error} />;
  const roles = (data && data.roles) || [];
  const memberOf = (data && data.sectors) || [];
  return (
    <div class="user-detail">
      <p><strong>{t('ops.users.sectors')}</strong> {memberOf.length ? memberOf.map(sectorName).join(', ') : t('ops.users.none')}</p>
      <p><strong>{t('ops.users.roles')}</strong>{' '}
        {roles.length ? roles.map((r) => t('ops.users.roleIn', { role: roleLabel(r.role), sector: (r.sector_id || r.sector) === '*' ? t('ops.users.allSectors') : sectorName(r.sector_id || r.sector) })).join('; ') : t('ops.users.none')}
      </p>
    </div>
  );
}

/** The catalog's text for `key`, or `fallback` (an installation's own role or kind) when it has none. */
function labelOr(key, fallback) {
  return has(key) ? t(key) : fallback || '—';
}
const roleLabel = (role) => labelOr(`role.${role}`, role);

function Users() {
  const { user } = useSession();
  const sectors = useLoad((signal) => (may(user, 'annex.sectors.read') ? get('/api/v1/sectors', { signal }).then((d) => (d && d.items) || [], () => []) : Promise.resolve([])), []);
  const [status, setStatus] = useState('');
  const { data, error, loading, reload } = useLoad((signal) => get(`/api/v1/users${status ? `?status=${seg(status)}` : ''}`, { signal }), [status]);
  const [open, setOpen] = useState(() => new Set());
  const items = (data && data.items) || [];
  const toggle = (id) => setOpen((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id); else n.add(id);
    return n;
  });
  return (
    <div>
      <div class="toolbar">
        <div class="field field-inline">
          <label for="users-status">{t('ops.users.status')}</label>
          <select id="users-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t('ops.users.anyStatus')}</option>
            {['active', 'frozen', 'disabled'].map((s) => <option key={s} value={s}>{t(`status.user_${s}`)}</option>)}
          </select>
        </div>
        <button type="button" class="btn" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('ops.users.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="users-table">
            <caption>{t('ops.users.caption', { count: count(items.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ops.users.col.login')}</th>
                <th scope="col">{t('ops.users.col.name')}</th>
                <th scope="col">{t('ops.users.col.status')}</th>
                <th scope="col">{t('ops.users.col.lastLogin')}</th>
                <th scope="col">{t('ops.users.col.access')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <tr key={u.id}>
                  <th scope="row" data-label={t('ops.users.col.login')}>{u.login}</th>
                  <td data-label={t('ops.users.col.name')}>{u.display_name || '—'}</td>
                  <td data-label={t('ops.users.col.status')}><Status value={`user_${u.status}`} /></td>
                  <td data-label={t('ops.users.col.lastLogin')}>{u.last_login_at ? instant(u.last_login_at) : t('ops.users.never')}</td>
                  <td data-label={t('ops.users.col.access')} class="wide">
                    <button type="button" class="btn btn-small" aria-expanded={open.has(u.id) ? 'true' : 'false'} aria-controls={`user-${u.id}`} onClick={() => toggle(u.id)}>
                      {t(open.has(u.id) ? 'ops.users.hide' : 'ops.users.show')}<span class="visually-hidden"> {u.login}</span>
                    </button>
                    <div id={`user-${u.id}`}>{open.has(u.id) && <UserDetail id={u.id} sectors={sectors.data} />}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Sectors() {
  const { data, error, loading, reload } = useLoad((signal) => get('/api/v1/sectors', { signal }), []);
  const items = (data && data.items) || [];
  return (
    <div>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('ops.sectors.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="sectors-table">
            <caption>{t('ops.sectors.caption', { count: count(items.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ops.sectors.col.name')}</th>
                <th scope="col">{t('ops.sectors.col.id')}</th>
                <th scope="col">{t('ops.sectors.col.created')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <th scope="row" data-label={t('ops.sectors.col.name')}>{s.name}</th>
                  <td data-label={t('ops.sectors.col.id')}><code>{s.id}</code></td>
                  <td data-label={t('ops.sectors.col.created')}>{instant(s.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Idle() {
  const [days, setDays] = useState('14');
  const [asked, setAsked] = useState('14');
  const { data, error, loading, reload } = useLoad((signal) => get(`/api/v1/users/idle?days=${seg(asked)}`, { signal }), [asked]);
  const items = (data && data.items) || [];
  return (
    <div>
      <p class="lead">{t('ops.idle.lead')}</p>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setAsked(days); }}>
        <div class="field">
          <label for="idle-days">{t('ops.idle.days')}</label>
          <input id="idle-days" type="number" min="1" max="3650" step="1" inputMode="numeric" value={days} onInput={(e) => setDays(e.currentTarget.value)} required />
        </div>
        <div class="filters-go"><button type="submit" class="btn btn-primary">{t('sales.show')}</button></div>
      </form>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('ops.idle.empty', { days: data.days })}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="idle-table">
            <caption>{t('ops.idle.caption', { count: count(items.length), days: data.days })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('ops.users.col.login')}</th>
                <th scope="col">{t('ops.users.col.name')}</th>
                <th scope="col">{t('ops.users.col.lastLogin')}</th>
                <th scope="col">{t('ops.idle.col.created')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <tr key={u.id}>
                  <th scope="row" data-label={t('ops.users.col.login')}>{u.login}</th>
                  <td data-label={t('ops.users.col.name')}>{u.display_name || '—'}</td>
                  <td data-label={t('ops.users.col.lastLogin')}>{u.last_login_at ? instant(u.last_login_at) : t('ops.users.never')}</td>
                  <td data-label={t('ops.idle.col.created')}>{instant(u.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

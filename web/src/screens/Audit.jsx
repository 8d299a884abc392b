// For auditors: a month's statements with their state, signatures and lateness, the exceptions, evidence packs to
// take away, and the audit log with a check of its hash chain.
import { useState } from 'preact/hooks';
import { t, has } from '../i18n.js';
import { get, seg } from '../api.js';
import { money, month, instant, count } from '../format.js';
import { userLabel, knownUsers } from '../directory.js';
import { stepLabel } from '../labels.js';
import { may } from '../permissions.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { ErrorBox, Loading, PageTitle, Status, useLoad } from '../components.jsx';
import { Party, lastMonth } from './parts.jsx';

const RS = '/api/v1/relationship-spending';
// Object types the audit log most often names, offered as suggestions (any other may be typed).
const OBJECT_TYPES = ['relationship.statement', 'relationship.exception', 'relationship.special_expense', 'relationship.standard',
  'expenses.claim', 'expenses.advance', 'contracts.contract', 'contracts.collection', 'annex.approval', 'annex.delegation',
  'annex.user', 'annex.sector', 'annex.party', 'annex.evidence_pack'];
const kindLabel = (k) => (has(`exception.${k}`) ? t(`exception.${k}`) : k);

function Period({ user }) {
  const [input, setInput] = useState(lastMonth());
  const [period, setPeriod] = useState(lastMonth());
  const { data, error, loading, reload } = useLoad((signal) => get(`${RS}/periods/${seg(period)}`, { signal }), [period]);
  const items = (data && data.statements) || [];
  const evidence = may(user, 'annex.audit.view');
  return (
    <section class="panel" aria-labelledby="period-title">
      <h2 id="period-title">{t('audit.period.title')}</h2>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); if (/^\d{4}-\d{2}$/.test(input)) setPeriod(input); }}>
        <div class="field">
          <label for="audit-period">{t('audit.period.month')}</label>
          <input id="audit-period" type="month" value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        </div>
        <button type="submit" class="btn">{t('audit.period.show')}</button>
        {evidence && (
          <a class="btn" href={`${RS}/periods/${seg(period)}/evidence`} download data-testid="period-evidence">
            {t('audit.period.evidence', { month: month(period) })}
          </a>
        )}
      </form>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && data.by_status && (
        <p data-testid="period-by-status">
          {Object.entries(data.by_status).map(([s, n]) => `${t(`status.${s}`)}: ${count(n)}`).join(' · ')}
        </p>
      )}
      {data && items.length === 0 && <p class="empty">{t('audit.period.none')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="period-statements">
            <caption>{t('audit.period.caption', { month: month(period), count: items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statement.rep')}</th>
                <th scope="col">{t('statement.status')}</th>
                <th scope="col">{t('statement.signatures')}</th>
                <th scope="col">{t('audit.col.lateness')}</th>
                <th scope="col" class="num">{t('statement.netPayable')}</th>
                <th scope="col" class="num">{t('statement.drawn')}</th>
                <th scope="col">{t('audit.col.exceptions')}</th>
                <th scope="col">{t('audit.evidence')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => {
                const sig = s.signatures || { signed: [], missing: [] };
                const exc = Object.entries(s.exceptions || {});
                const late = [s.submitted_late && t('audit.lateSubmit'), s.signed_late && t('audit.lateSign')].filter(Boolean);
                return (
                  <tr key={s.id}>
                    <th scope="row" data-label={t('statement.rep')}>
                      <Link href={`/statements/${encodeURIComponent(s.id)}`}>{userLabel(s.rep_id)}</Link>
                      <div class="muted">{s.sector_id}</div>
                    </th>
                    <td data-label={t('statement.status')}>
                      <Status value={s.status} />
                      {s.valid && <div class="muted">{t('audit.valid')}</div>}
                    </td>
                    <td data-label={t('statement.signatures')} class="wide">
                      {(sig.signed || []).map((x) => <div key={x.step}>✓ {stepLabel(x.step)} · {userLabel(x.by)}</div>)}
                      {(sig.missing || []).map((m) => <div key={m} class="muted">{t('audit.missing', { step: stepLabel(m) })}</div>)}
                    </td>
                    <td data-label={t('audit.col.lateness')}>{late.length ? late.join(', ') : t('audit.onTime')}</td>
                    <td data-label={t('statement.netPayable')} class="num">{money(s.net_payable)}</td>
                    <td data-label={t('statement.drawn')} class="num">{money(s.drawn)}</td>
                    <td data-label={t('audit.col.exceptions')}>{exc.length ? exc.map(([k, n]) => `${kindLabel(k)} (${count(n)})`).join(', ') : '—'}</td>
                    <td data-label={t('audit.evidence')}>
                      {evidence ? <a href={`${RS}/statements/${seg(s.id)}/evidence`} download>{t('audit.evidenceOf', { rep: userLabel(s.rep_id) })}</a> : '—'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Exceptions() {
  const { data, error, loading, reload } = useLoad((signal) => get(`${RS}/exceptions?sort=at&limit=200`, { signal }), []);
  const items = (data && data.items) || [];
  return (
    <section class="panel" aria-labelledby="exceptions-title">
      <div class="page-head">
        <h2 id="exceptions-title">{t('audit.exceptions.title')}</h2>
        <button type="button" class="btn btn-small" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('audit.exceptions.none')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="exceptions">
            <caption class="visually-hidden">{t('audit.exceptions.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.col.kind')}</th>
                <th scope="col">{t('statement.rep')}</th>
                <th scope="col">{t('statement.col.customer')}</th>
                <th scope="col">{t('audit.col.subject')}</th>
                <th scope="col">{t('audit.col.at')}</th>
                <th scope="col">{t('audit.col.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id}>
                  <th scope="row" data-label={t('audit.col.kind')}>{kindLabel(x.kind)}</th>
                  <td data-label={t('statement.rep')}>{userLabel(x.rep_id)}<div class="muted">{x.sector_id}</div></td>
                  <td data-label={t('statement.col.customer')}>{x.party_id ? <Party id={x.party_id} /> : '—'}</td>
                  <td data-label={t('audit.col.subject')} class="wide">
                    {x.subject && x.subject.type === 'relationship.statement'
                      ? <Link href={`/statements/${encodeURIComponent(x.subject.id)}`}>{x.subject.id}</Link>
                      : x.subject ? <code class="hash">{x.subject.type}/{x.subject.id}</code> : '—'}
                  </td>
                  <td data-label={t('audit.col.at')}>{instant(x.at)}</td>
                  <td data-label={t('audit.col.detail')} class="wide">
                    <code class="hash">{Object.entries(x.detail || {}).filter(([, v]) => v !== '' && v !== null).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('; ')}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** A datetime-local value ("2026-12-01T09:30", the browser's time) as RFC 3339 in UTC. */
const rfc3339 = (local) => (local ? new Date(local).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');

function AuditLog({ user }) {
  const [q, setQ] = useState({ object_type: '', object_id: '', principal: '', from: '', to: '' });
  const [result, setResult] = useState({ items: null, next: null, error: null, busy: false });
  const [verify, setVerify] = useState({ busy: false, data: null, error: null });
  const search = async (after) => {
    setResult((r) => ({ ...r, error: null, busy: true }));
    const params = new URLSearchParams();
    for (const k of ['object_type', 'object_id', 'principal']) if (q[k].trim()) params.set(k, q[k].trim());
    if (q.from) params.set('from', rfc3339(q.from));
    if (q.to) params.set('to', rfc3339(q.to));
    if (after) params.set('after_seq', String(after));
    try {
      const data = await get(`/api/v1/audit?${params}`);
      setResult((r) => ({ items: [...(after ? r.items || [] : []), ...((data && data.items) || [])], next: data && data.next_after_seq, error: null, busy: false }));
    } catch (error) {
      setResult((r) => ({ ...r, error, busy: false }));
    }
  };
  const runVerify = async () => {
    setVerify({ busy: true, data: null, error: null });
    try {
      setVerify({ busy: false, data: await get('/api/v1/audit/verify'), error: null });
    } catch (error) {
      setVerify({ busy: false, data: null, error });
    }
  };
  const field = (k, type = 'text', list) => (
    <div class="field">
      <label for={`audit-${k}`}>{t(`audit.log.${k}`)}</label>
      <input id={`audit-${k}`} type={type} value={q[k]} autoComplete="off" list={list} onInput={(e) => setQ({ ...q, [k]: e.currentTarget.value })} />
    </div>
  );
  // Whom to look for: by name when the user may list accounts, else by id.
  const users = knownUsers();
  const principal = users.length ? (
    <div class="field">
      <label for="audit-principal">{t('audit.log.principal')}</label>
      <select id="audit-principal" value={q.principal} onChange={(e) => setQ({ ...q, principal: e.currentTarget.value })}>
        <option value="">{t('audit.log.anyone')}</option>
        {users.map((u) => <option key={u.id} value={u.id}>{userLabel(u.id)}</option>)}
      </select>
    </div>
  ) : field('principal');
  const v = verify.data;
  return (
    <section class="panel" aria-labelledby="auditlog-title">
      <h2 id="auditlog-title">{t('audit.log.title')}</h2>
      {may(user, 'annex.audit.verify') && (
        <div class="verify">
          <button type="button" class="btn btn-secondary" onClick={runVerify} disabled={verify.busy} aria-busy={verify.busy ? 'true' : undefined}
            data-testid="verify-chain">
            {t('audit.verify')}
          </button>
          <ErrorBox error={verify.error} />
          {v && (
            <div class={`alert ${v.ok ? 'alert-ok' : 'alert-error'}`} role="status" data-testid="verify-result" data-ok={String(!!v.ok)}>
              <p class="alert-title">{v.ok ? t('audit.verify.ok') : t('audit.verify.bad')}</p>
              <p>{t('audit.verify.counts', { entries: count(v.entries || 0), checkpoints: count(v.checkpoints || 0) })}</p>
              {!v.ok && v.first_bad_seq !== null && v.first_bad_seq !== undefined && <p>{t('audit.verify.firstBad', { seq: v.first_bad_seq })}</p>}
              {v.problem && <p class="alert-detail">{t('error.detail', { detail: v.problem })}</p>}
            </div>
          )}
        </div>
      )}
      <form class="form" onSubmit={(e) => { e.preventDefault(); search(null); }} data-testid="audit-search">
        <div class="form-grid">
          {field('object_type', 'text', 'audit-object-types')}
          <datalist id="audit-object-types">
            {OBJECT_TYPES.map((o) => <option key={o} value={o} />)}
          </datalist>
          {field('object_id')}
          {principal}
          {field('from', 'datetime-local')}
          {field('to', 'datetime-local')}
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={result.busy}>{t('audit.log.search')}</button>
          </div>
        </div>
      </form>
      <ErrorBox error={result.error} />
      {result.items && result.items.length === 0 && <p class="empty">{t('audit.log.none')}</p>}
      {result.items && result.items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="audit-entries">
            <caption>{t('audit.log.caption', { count: result.items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('audit.col.seq')}</th>
                <th scope="col">{t('audit.col.at')}</th>
                <th scope="col">{t('audit.col.principal')}</th>
                <th scope="col">{t('audit.col.action')}</th>
                <th scope="col">{t('audit.col.object')}</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((e) => (
                <tr key={e.seq}>
                  <td data-label={t('audit.col.seq')}>{e.seq}</td>
                  <td data-label={t('audit.col.at')}>{instant(e.at)}</td>
                  <td data-label={t('audit.col.principal')}>{userLabel(e.principal)}</td>
                  <td data-label={t('audit.col.action')}><code class="hash">{e.action}</code></td>
                  <td data-label={t('audit.col.object')} class="wide"><code class="hash">{e.object_type}/{e.object_id}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.next && (
        <button type="button" class="btn" onClick={() => search(result.next)} disabled={result.busy}>{t('audit.log.more')}</button>
      )}
    </section>
  );
}

export default function Audit() {
  const { user } = useSession();
  return (
    <section aria-labelledby="audit-title">
      <PageTitle id="audit-title" text={t('audit.title')} />
      <p class="lead">{t('audit.lead')}</p>
      {may(user, 'relationship.audit.read') && <Period user={user} />}
      {may(user, 'relationship.exception.read') && <Exceptions />}
      {may(user, 'annex.audit.view') && <AuditLog user={user} />}
    </section>
  );
}

import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get, post, del, seg } from '../api.js';
import { instant } from '../format.js';
import { userLabel, knownUsers } from '../directory.js';
import { chainLabel } from '../labels.js';
import { chainsUserDecides } from '../permissions.js';
import { useSession } from '../session.js';
import { ErrorBox, Loading, Notice, PageTitle, Status, useLoad } from '../components.jsx';

const MAX_DAYS = 180;

/** RFC 3339 in UTC, whole seconds, from a datetime-local value (the browser's time zone). */
function toRfc3339(local) {
  const ms = new Date(local).getTime();
  if (Number.isNaN(ms)) return null;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A datetime-local value for an instant, in the browser's time zone. */
function toLocalInput(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function stateOf(d) {
  const now = Date.now();
  if (d.revoked_at) return 'revoked';
  if (Date.parse(d.valid_until) <= now) return 'expired';
  if (d.valid_from && Date.parse(d.valid_from) > now) return 'scheduled';
  return 'active';
}

const chainsText = (chains) => ((chains || []).includes('*') ? t('delegations.allChains') : (chains || []).map(chainLabel).join(', '));

function CreateForm({ me, chains, onCreated }) {
  const users = knownUsers().filter((u) => u.id !== me.id);
  const [delegate, setDelegate] = useState('');
  const [all, setAll] = useState(false);
  const [picked, setPicked] = useState(/** @type {string[]} */ ([]));
  const [from, setFrom] = useState('');
  const [until, setUntil] = useState(() => toLocalInput(Date.now() + 7 * 86400000));
  const [problems, setProblems] = useState(/** @type {Record<string, string>} */ ({}));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const toggle = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));

  const submit = async (e) => {
    e.preventDefault();
    const found = {};
    if (!delegate.trim()) found.delegate = t('delegations.problem.delegate');
    if (!all && picked.length === 0) found.chains = t('delegations.problem.chains');
    if (!until || !toRfc3339(until)) found.until = t('delegations.problem.until');
    setProblems(found);
    setError(null);
    if (Object.keys(found).length) {
      const first = found.delegate ? 'delegate' : found.chains ? 'chain-all' : 'valid-until';
      document.getElementById(first)?.focus();
      return;
    }
    const body = { delegate_id: delegate.trim(), chains: all ? ['*'] : picked, valid_until: toRfc3339(until) };
    if (from) body.valid_from = toRfc3339(from);
    setBusy(true);
    try {
      const created = await post('/api/v1/delegations', body);
      setDelegate('');
      setPicked([]);
      setAll(false);
      setFrom('');
      onCreated(created);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };

  return (
    <form class="form form-grid" onSubmit={submit} noValidate data-testid="delegation-form">
      <ErrorBox error={error} />
      <div class="field">
        <label for="delegate">{t('delegations.delegate')}</label>
        {users.length > 0 ? (
          <select id="delegate" value={delegate} onChange={(e) => setDelegate(e.currentTarget.value)}
            aria-invalid={problems.delegate ? 'true' : undefined} aria-describedby={problems.delegate ? 'delegate-problem' : undefined}>
            <option value="">{t('delegations.choose')}</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>{userLabel(u.id)}</option>
            ))}
          </select>
        ) : (
          <input id="delegate" value={delegate} onInput={(e) => setDelegate(e.currentTarget.value)} autocomplete="off"
            aria-invalid={problems.delegate ? 'true' : undefined} aria-describedby={`delegate-hint${problems.delegate ? ' delegate-problem' : ''}`} />
        )}
        {users.length === 0 && <p id="delegate-hint" class="hint">{t('delegations.delegateHint')}</p>}
        {problems.delegate && <p id="delegate-problem" class="field-error">{problems.delegate}</p>}
      </div>
      <fieldset class="choices" aria-describedby={problems.chains ? 'chains-problem' : undefined}>
        <legend>{t('delegations.chains')}</legend>
        <div class="choice">
          <input type="checkbox" id="chain-all" checked={all} onChange={() => setAll(!all)} />
          <label for="chain-all">{t('delegations.allChains')}</label>
        </div>
        {chains.map((c) => (
          <div class="choice" key={c.id}>
            <input type="checkbox" id={`chain-${c.id}`} checked={all || picked.includes(c.id)} disabled={all} onChange={() => toggle(c.id)} />
            <label for={`chain-${c.id}`}>{chainLabel(c.id)}</label>
          </div>
        ))}
        {problems.chains && <p id="chains-problem" class="field-error">{problems.chains}</p>}
      </fieldset>
      <div class="field">
        <label for="valid-from">{t('delegations.from')}</label>
        <input id="valid-from" type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} aria-describedby="valid-from-hint" />
        <p id="valid-from-hint" class="hint">{t('delegations.fromHint')}</p>
      </div>
      <div class="field">
        <label for="valid-until">{t('delegations.until')}</label>
        <input id="valid-until" type="datetime-local" value={until} onInput={(e) => setUntil(e.currentTarget.value)}
          aria-invalid={problems.until ? 'true' : undefined} aria-describedby={`valid-until-hint${problems.until ? ' until-problem' : ''}`} />
        <p id="valid-until-hint" class="hint">{t('delegations.untilHint', { days: MAX_DAYS })}</p>
        {problems.until && <p id="until-problem" class="field-error">{problems.until}</p>}
      </div>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>{t('delegations.create')}</button>
      </div>
    </form>
  );
}

function DelegationTable({ items, direction, onRevoke, busyId }) {
  if (items.length === 0) return <p class="empty">{t(`delegations.none.${direction}`)}</p>;
  return (
    <div class="table-wrap">
      <table class="table table-cards" data-testid={`delegations-${direction}`}>
        <caption class="visually-hidden">{t(`delegations.${direction}`)}</caption>
        <thead>
          <tr>
            <th scope="col">{direction === 'given' ? t('delegations.col.delegate') : t('delegations.col.delegator')}</th>
            <th scope="col">{t('delegations.col.chains')}</th>
            <th scope="col">{t('delegations.col.from')}</th>
            <th scope="col">{t('delegations.col.until')}</th>
            <th scope="col">{t('delegations.col.state')}</th>
            {direction === 'given' && <th scope="col"><span class="visually-hidden">{t('delegations.col.actions')}</span></th>}
          </tr>
        </thead>
        <tbody>
          {items.map((d) => {
            const state = stateOf(d);
            const who = userLabel(direction === 'given' ? d.delegate_id : d.delegator_id);
            return (
              <tr key={d.id}>
                <th scope="row" data-label={direction === 'given' ? t('delegations.col.delegate') : t('delegations.col.delegator')}>{who}</th>
                <td data-label={t('delegations.col.chains')} class="wide">{chainsText(d.chains)}</td>
                <td data-label={t('delegations.col.from')}>{instant(d.valid_from)}</td>
                <td data-label={t('delegations.col.until')}>{instant(d.valid_until)}</td>
                <td data-label={t('delegations.col.state')}><Status value={`delegation_${state}`} /></td>
                {direction === 'given' && (
                  <td data-label={t('delegations.col.actions')}>
                    {(state === 'active' || state === 'scheduled') && (
                      <button type="button" class="btn btn-small btn-danger-quiet" disabled={busyId === d.id}
                        onClick={() => onRevoke(d)} aria-label={t('delegations.revokeFor', { name: who })}>
                        {t('delegations.revoke')}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Delegations the user gave and received; giving and revoking one. */
export default function Delegations() {
  const { user } = useSession();
  const [flash, setFlash] = useState(/** @type {null|string} */ (null));
  const [actionError, setActionError] = useState(null);
  const [busyId, setBusyId] = useState(null);
  const list = useLoad((signal) => get('/api/v1/delegations', { signal }), []);
  const chains = useLoad((signal) => get('/api/v1/approval-chains', { signal }).catch(() => ({ items: [] })), []);

  // newest first: what was just given or revoked is at the top
  const items = ((list.data && list.data.items) || []).slice().sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const given = items.filter((d) => d.delegator_id === user.id);
  const received = items.filter((d) => d.delegate_id === user.id);
  const decidable = chainsUserDecides(user, (chains.data && chains.data.items) || []);

  const revoke = async (d) => {
    setBusyId(d.id);
    setActionError(null);
    setFlash(null);
    try {
      await del(`/api/v1/delegations/${seg(d.id)}`);
      setFlash(t('delegations.revoked', { name: userLabel(d.delegate_id) }));
      list.reload();
    } catch (err) {
      setActionError(err);
    }
    setBusyId(null);
  };

  return (
    <section aria-labelledby="delegations-title">
      <div class="page-head">
        <PageTitle id="delegations-title" text={t('delegations.title')} />
      </div>
      <p class="lead">{t('delegations.lead')}</p>
      {flash && <Notice kind="ok">{flash}</Notice>}
      <ErrorBox error={actionError} />

      <section class="panel" aria-labelledby="delegations-new">
        <h2 id="delegations-new">{t('delegations.new')}</h2>
        {chains.loading && !chains.data ? <Loading /> : decidable.length === 0 ? (
          <p class="muted">{t('delegations.nothingToDelegate')}</p>
        ) : (
          <CreateForm me={user} chains={decidable}
            onCreated={(d) => { setFlash(t('delegations.created', { name: userLabel(d && d.delegate_id) })); list.reload(); }} />
        )}
      </section>

      <section class="panel" aria-labelledby="delegations-given">
        <h2 id="delegations-given">{t('delegations.given')}</h2>
        {list.loading && !list.data ? <Loading /> : <ErrorBox error={list.error} onRetry={list.reload} />}
        {list.data && <DelegationTable items={given} direction="given" onRevoke={revoke} busyId={busyId} />}
      </section>

      <section class="panel" aria-labelledby="delegations-received">
        <h2 id="delegations-received">{t('delegations.received')}</h2>
        {list.data && <DelegationTable items={received} direction="received" />}
      </section>
    </section>
  );
}

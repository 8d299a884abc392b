// A rep's expenses: their claims with each one's state, and their cash advances with what is outstanding against
// the cap and a form to request another. Only the user's own claims and advances are listed.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get, post } from '../api.js';
import { money, instant, date } from '../format.js';
import { minorUnitsOf } from '../money.js';
import { parseAmount } from '../amount.js';
import { may } from '../permissions.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { ErrorBox, Facts, Loading, PageTitle, Status, useLoad } from '../components.jsx';

const purposeLabel = (p) => (p ? t(`purpose.${p}`) : '—');

function Claims({ user }) {
  const { data, error, loading, reload } = useLoad(
    (signal) => get(`/api/v1/expenses/claims?claimant_id=${encodeURIComponent(user.id)}&limit=100`, { signal }), [user.id]);
  const items = (data && data.items) || [];
  return (
    <section class="panel" aria-labelledby="claims-title">
      <div class="page-head">
        <h2 id="claims-title">{t('expenses.claims')}</h2>
        {may(user, 'expenses.claim.write') && (
          <Link class="btn btn-primary" href="/expenses/claims/new">{t('expenses.newClaim')}</Link>
        )}
      </div>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('expenses.noClaims')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="my-claims">
            <caption class="visually-hidden">{t('expenses.claims')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('claim.number')}</th>
                <th scope="col">{t('claim.purpose')}</th>
                <th scope="col">{t('claim.status')}</th>
                <th scope="col" class="num">{t('claim.total')}</th>
                <th scope="col">{t('expenses.col.changed')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <th scope="row" data-label={t('claim.number')} class="wide">
                    <Link href={`/expenses/claims/${encodeURIComponent(c.id)}`}>{c.number || c.id}</Link>
                  </th>
                  <td data-label={t('claim.purpose')}>{purposeLabel(c.purpose)}</td>
                  <td data-label={t('claim.status')}><Status value={c.status} /></td>
                  <td data-label={t('claim.total')} class="num">{money(c.total)}</td>
                  <td data-label={t('expenses.col.changed')}>{instant(c.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RequestAdvance({ currency, onRequested }) {
  const [amount, setAmount] = useState('');
  const [purpose, setPurpose] = useState('');
  const [problem, setProblem] = useState(/** @type {null|{field: string, text: string}} */ (null));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const units = minorUnitsOf(currency);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const minor = parseAmount(amount, units);
    if (!minor) return setProblem({ field: 'amount', text: t('advances.problem.amount', { decimals: units }) });
    if (!purpose.trim()) return setProblem({ field: 'purpose', text: t('advances.problem.purpose') });
    setProblem(null);
    setBusy(true);
    try {
      const created = await post('/api/v1/expenses/advances', { amount: { amount: minor, currency }, purpose: purpose.trim() });
      setAmount('');
      setPurpose('');
      onRequested(created);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} noValidate data-testid="advance-form" aria-labelledby="advance-form-title">
      <h3 id="advance-form-title">{t('advances.request')}</h3>
      <ErrorBox error={error} />
      <div class="form-grid">
        <div class="field">
          <label for="advance-amount">{t('advances.amount', { currency })}</label>
          <input id="advance-amount" inputMode="decimal" autoComplete="off" value={amount}
            aria-invalid={problem && problem.field === 'amount' ? 'true' : undefined}
            aria-describedby={problem && problem.field === 'amount' ? 'advance-amount-problem' : undefined}
            onInput={(e) => setAmount(e.currentTarget.value)} />
          {problem && problem.field === 'amount' && <p id="advance-amount-problem" class="field-error">{problem.text}</p>}
        </div>
        <div class="field">
          <label for="advance-purpose">{t('advances.purpose')}</label>
          <input id="advance-purpose" maxLength={200} value={purpose}
            aria-invalid={problem && problem.field === 'purpose' ? 'true' : undefined}
            aria-describedby={problem && problem.field === 'purpose' ? 'advance-purpose-problem' : undefined}
            onInput={(e) => setPurpose(e.currentTarget.value)} />
          {problem && problem.field === 'purpose' && <p id="advance-purpose-problem" class="field-error">{problem.text}</p>}
        </div>
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>{t('advances.submit')}</button>
        </div>
      </div>
    </form>
  );
}

function Advances({ user }) {
  const [done, setDone] = useState(null);
  const list = useLoad((signal) => get(`/api/v1/expenses/advances?requester_id=${encodeURIComponent(user.id)}&limit=100`, { signal }), [user.id]);
  const balance = useLoad((signal) => get('/api/v1/expenses/advances/balance', { signal }), [user.id]);
  const items = (list.data && list.data.items) || [];
  const b = balance.data;
  const currency = (b && b.cap && b.cap.currency) || 'CNY';
  return (
    <section class="panel" aria-labelledby="advances-title">
      <h2 id="advances-title">{t('advances.title')}</h2>
      <ErrorBox error={balance.error} onRetry={balance.reload} />
      {b && (
        <div data-testid="advance-balance">
          <Facts items={[
            [t('advances.outstanding'), money(b.outstanding)],
            [t('advances.cap'), money(b.cap)],
            [t('advances.available'), money(b.available)],
          ]} />
        </div>
      )}
      {done && <p class="alert alert-ok" role="status">{t('advances.requested', { amount: money(done.amount) })}</p>}
      {may(user, 'expenses.advance.write') && (
        <RequestAdvance currency={currency} onRequested={(a) => { setDone(a); list.reload(); balance.reload(); }} />
      )}
      <h3>{t('advances.mine')}</h3>
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && items.length === 0 && <p class="empty">{t('advances.none')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="my-advances">
            <caption class="visually-hidden">{t('advances.mine')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('advance.purpose')}</th>
                <th scope="col">{t('advance.status')}</th>
                <th scope="col" class="num">{t('advance.amount')}</th>
                <th scope="col" class="num">{t('advance.open')}</th>
                <th scope="col">{t('advance.requested')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id}>
                  <th scope="row" data-label={t('advance.purpose')} class="wide">
                    {a.purpose || '—'}
                    {a.paid_on && <div class="muted">{t('advance.paidOn')}: {date(a.paid_on)}</div>}
                  </th>
                  <td data-label={t('advance.status')}><Status value={a.status} /></td>
                  <td data-label={t('advance.amount')} class="num">{money(a.amount)}</td>
                  <td data-label={t('advance.open')} class="num">{money(a.open)}</td>
                  <td data-label={t('advance.requested')}>{instant(a.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function Expenses() {
  const { user } = useSession();
  return (
    <section aria-labelledby="expenses-title">
      <PageTitle id="expenses-title" text={t('expenses.title')} />
      <p class="lead">{t('expenses.lead')}</p>
      {may(user, 'expenses.claim.read') && <Claims user={user} />}
      {may(user, 'expenses.advance.read') && <Advances user={user} />}
    </section>
  );
}

// One relationship-fee statement as its rep, a clerk, a sector head or finance reads it: the month's customers,
// contracts and fees, ratios and warnings, the signatures so far; the rep submits it (If-Match) and draws its
// payout under the cap; the sector's sales manager confirms or disputes the spot-checked customers; anyone who
// reads it may open the printable statement. A statement out of reach is not found.
import { useState } from 'preact/hooks';
import { t, has } from '../i18n.js';
import { get, post, seg, ifMatch } from '../api.js';
import { money, minor, bp, date, instant, month } from '../format.js';
import { minorUnitsOf } from '../money.js';
import { parseAmount } from '../amount.js';
import { userLabel } from '../directory.js';
import { stepLabel } from '../labels.js';
import { may } from '../permissions.js';
import { Link } from '../router.js';
import { Signatures } from './parts.jsx';
import { useSession } from '../session.js';
import { ErrorBox, Facts, Loading, PageTitle, Status, useLoad } from '../components.jsx';
import { ApprovalProgress, OutOfReach, Party, Ratio } from './parts.jsx';

const base = (id) => `/api/v1/relationship-spending/statements/${seg(id)}`;

/** A refusal of a draw: the sentence chosen by the field the server names, then the server's words. */
function Refusal({ error }) {
  if (!error) return null;
  const known = error.field && has(`payout.refused.${error.field}`);
  if (!known) return <ErrorBox error={error} />;
  return (
    <div class="alert alert-error" role="alert" data-testid="payout-refusal" data-field={error.field}>
      <p class="alert-title">{t(`payout.refused.${error.field}`)}</p>
      <p>{t('error.field', { field: has(`field.${error.field}`) ? t(`field.${error.field}`) : error.field })}</p>
      {error.serverMessage && <p class="alert-detail">{t('error.detail', { detail: error.serverMessage })}</p>}
    </div>
  );
}


function Customers({ content }) {
  const cur = content.currency || '';
  const customers = content.customers || [];
  if (!customers.length) return <p class="muted">{t('statement.noCustomers')}</p>;
  const totals = content.totals;
  return (
    <div class="table-wrap">
      <table class="table table-cards" data-testid="statement-customers">
        <caption class="visually-hidden">{t('statement.customers')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('statement.col.customer')}</th>
            <th scope="col" class="num">{t('statement.col.feeEarned')}</th>
            <th scope="col" class="num">{t('statement.col.feePayable')}</th>
            <th scope="col" class="num">{t('statement.col.recovered')}</th>
            <th scope="col" class="num">{t('stmt.col.carried')}</th>
            <th scope="col" class="num">{t('statement.col.collected')}</th>
            <th scope="col" class="num">{t('statement.col.ratio')}</th>
          </tr>
        </thead>
        <tbody>
          {customers.map((c) => (
            <tr key={c.party_id}>
              <th scope="row" data-label={t('statement.col.customer')}>
                <Party id={c.party_id} />
                {(c.contracts || []).length > 0 && (
                  <details class="contracts">
                    <summary>{t('statement.contracts', { count: c.contracts.length })}</summary>
                    <ul>
                      {c.contracts.map((k) => (
                        <li key={k.contract_id}>
                          {t('statement.contractLine', {
                            number: k.number || k.contract_id, signed: date(k.signed_on), value: money(k.value),
                            month: money(k.collected_in_month), total: money(k.collected_to_date),
                          })}
                          {' '}<Ratio ratio={k.ratio} />
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
                {c.spend && c.spend.over_limit && <span class="badge badge-warn">{t('statement.overLimit')}</span>}
              </th>
              <td data-label={t('statement.col.feeEarned')} class="num">{minor(c.fee_earned, cur)}</td>
              <td data-label={t('statement.col.feePayable')} class="num">{minor(c.fee_payable, cur)}</td>
              <td data-label={t('statement.col.recovered')} class="num">{minor(c.recovered, cur)}</td>
              <td data-label={t('stmt.col.carried')} class="num">{minor(c.carried_forward, cur)}</td>
              <td data-label={t('statement.col.collected')} class="num">{minor(c.collected_to_date, cur)}</td>
              <td data-label={t('statement.col.ratio')} class="num"><Ratio ratio={c.ratio} /></td>
            </tr>
          ))}
        </tbody>
        {totals && (
          <tfoot>
            <tr>
              <th scope="row" data-label="">{t('statement.totals')}</th>
              <td data-label={t('statement.col.feeEarned')} class="num">{minor(totals.fee_earned, cur)}</td>
              <td data-label={t('statement.col.feePayable')} class="num">{minor(totals.fee_payable, cur)}</td>
              <td data-label={t('statement.col.recovered')} class="num">{minor(totals.recovered, cur)}</td>
              <td data-label={t('stmt.col.carried')} class="num">{minor(totals.carried_forward, cur)}</td>
              <td colSpan={2} data-label={t('statement.netPayable')} class="num">{t('stmt.netTotal', { amount: minor(totals.net_payable, cur) })}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  );
}

function Warnings({ content }) {
  const warnings = content.warnings || [];
  const cur = content.currency || '';
  if (!warnings.length) return null;
  return (
    <div class="alert alert-warn" role="note" data-testid="statement-warnings">
      <p class="alert-title">{t('statement.warnings', { count: warnings.length })}</p>
      <ul>
        {warnings.map((w, i) => (
          <li key={i}>
            {has(`statement.warning.${w.kind}`) ? t(`statement.warning.${w.kind}`, {
              party: w.party_id || '—', contract: w.contract_id || '—',
              ratio: w.ratio_bp !== undefined ? bp(w.ratio_bp) : '—',
              spend: w.spend_in_window !== undefined ? minor(w.spend_in_window, cur) : '—',
            }) : w.kind}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Special expenses for new customers (R6): those this statement pays in step with collection, and those filed in the month. */
function SpecialExpenses({ content }) {
  const sp = content.special_expenses || {};
  const cur = content.currency || '';
  const on = sp.on_statement || [];
  const filed = sp.filed_in_month || [];
  if (!on.length && !filed.length) return null;
  const label = (prefix, v) => (v && has(`${prefix}.${v}`) ? t(`${prefix}.${v}`) : v || '—');
  return (
    <section class="panel" aria-labelledby="stmt-special-title">
      <h2 id="stmt-special-title">{t('stmt.special.title')}</h2>
      {on.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="special-on-statement">
            <caption>{t('stmt.special.onStatement')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statement.col.customer')}</th>
                <th scope="col" class="num">{t('stmt.special.amount')}</th>
                <th scope="col" class="num">{t('stmt.special.payableBefore')}</th>
                <th scope="col" class="num">{t('stmt.special.payableAfter')}</th>
                <th scope="col">{t('statement.status')}</th>
              </tr>
            </thead>
            <tbody>
              {on.map((e) => (
                <tr key={e.application_id}>
                  <th scope="row" data-label={t('statement.col.customer')}>
                    <Party id={e.party_id} />
                    {e.contract && <div class="muted">{e.contract.number || e.contract.contract_id}</div>}
                  </th>
                  <td data-label={t('stmt.special.amount')} class="num">{minor(e.amount, cur)}</td>
                  <td data-label={t('stmt.special.payableBefore')} class="num">{minor(e.payable_before, cur)}</td>
                  <td data-label={t('stmt.special.payableAfter')} class="num">{minor(e.payable_after, cur)}</td>
                  <td data-label={t('statement.status')}>{label('stmt.special.state', e.state)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {filed.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="special-filed">
            <caption>{t('stmt.special.filed')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statement.col.customer')}</th>
                <th scope="col">{t('stmt.special.purpose')}</th>
                <th scope="col" class="num">{t('stmt.special.amount')}</th>
                <th scope="col">{t('statement.status')}</th>
                <th scope="col">{t('stmt.special.filedOn')}</th>
              </tr>
            </thead>
            <tbody>
              {filed.map((e) => (
                <tr key={e.application_id}>
                  <th scope="row" data-label={t('statement.col.customer')}><Party id={e.party_id} /></th>
                  <td data-label={t('stmt.special.purpose')}>{label('rpurpose', e.purpose)}</td>
                  <td data-label={t('stmt.special.amount')} class="num">{money(e.amount)}</td>
                  <td data-label={t('statement.status')}><Status value={e.status} /></td>
                  <td data-label={t('stmt.special.filedOn')}>{date(e.filed_on)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Payout({ doc, onDrawn }) {
  const [amount, setAmount] = useState('');
  const [problem, setProblem] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const cur = (doc.undrawn && doc.undrawn.currency) || 'CNY';
  const units = minorUnitsOf(cur);
  const draws = useLoad((signal) => get(`${base(doc.id)}/payouts`, { signal }), [doc.id, doc.version]);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const body = {};
    if (amount.trim()) {
      const m = parseAmount(amount, units);
      if (!m) return setProblem(true);
      body.amount = { amount: m, currency: cur };
    }
    setProblem(false);
    setBusy(true);
    try {
      const drawn = await post(`${base(doc.id)}/payouts`, body);
      setDone(drawn);
      setAmount('');
      onDrawn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const items = (draws.data && draws.data.items) || [];
  return (
    <section class="panel" aria-labelledby="payout-title">
      <h2 id="payout-title">{t('payout.title')}</h2>
      <p>{t('payout.lead', { undrawn: money(doc.undrawn), from: doc.due ? date(doc.due.payout_from) : '—' })}</p>
      {done && <p class="alert alert-ok" role="status">{t('payout.done', { amount: money(done.amount) })}</p>}
      <Refusal error={error} />
      <form class="form" onSubmit={submit} noValidate data-testid="payout-form">
        <div class="form-grid">
          <div class="field">
            <label for="payout-amount">{t('payout.amount', { currency: cur })}</label>
            <input id="payout-amount" inputMode="decimal" autoComplete="off" value={amount} onInput={(e) => setAmount(e.currentTarget.value)}
              aria-describedby={problem ? 'payout-amount-hint payout-amount-problem' : 'payout-amount-hint'} aria-invalid={problem ? 'true' : undefined} />
            <p id="payout-amount-hint" class="hint">{t('payout.amountHint')}</p>
            {problem && <p id="payout-amount-problem" class="field-error">{t('payout.problem', { decimals: units })}</p>}
          </div>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={busy} aria-busy={busy ? 'true' : undefined}>{t('payout.submit')}</button>
          </div>
        </div>
      </form>
      {items.length > 0 && (
        <ul class="draws">
          {items.map((p) => <li key={p.id}>{money(p.amount)} · {instant(p.drawn_at)}</li>)}
        </ul>
      )}
    </section>
  );
}

function SpotCheckItem({ statementId, item, onDecided }) {
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const [problem, setProblem] = useState(false);
  const [busy, setBusy] = useState(false);
  const idBase = `spot-${item.party_id}`;
  const decide = async (outcome) => {
    if (!note.trim()) {
      setProblem(true);
      document.getElementById(`${idBase}-note`)?.focus();
      return;
    }
    setProblem(false);
    setBusy(true);
    setError(null);
    try {
      await post(`${base(statementId)}/spot-check/items/${seg(item.party_id)}`, { outcome, note: note.trim() });
      onDecided();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <li class="spot-item" data-testid="spot-item">
      <p id={`${idBase}-who`}><strong>{t('spot.rank', { rank: item.rank })}</strong> <Party id={item.party_id} /> <Status value={`spot_${item.outcome}`} /></p>
      {item.outcome === 'pending' ? (
        <div class="form">
          <ErrorBox error={error} />
          <div class="field">
            <label for={`${idBase}-note`}>{t('spot.note')}<span class="visually-hidden"> · {t('spot.rank', { rank: item.rank })}</span></label>
            <textarea id={`${idBase}-note`} rows={2} maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)}
              aria-invalid={problem ? 'true' : undefined} aria-describedby={problem ? `${idBase}-problem` : undefined} />
            {problem && <p id={`${idBase}-problem`} class="field-error">{t('spot.noteMissing')}</p>}
          </div>
          <div class="button-row">
            <button type="button" class="btn btn-primary" disabled={busy} aria-describedby={`${idBase}-who`} onClick={() => decide('confirmed')}>{t('spot.confirm')}</button>
            <button type="button" class="btn btn-danger-quiet" disabled={busy} aria-describedby={`${idBase}-who`} onClick={() => decide('disputed')}>{t('spot.dispute')}</button>
          </div>
        </div>
      ) : (
        <p class="muted">{item.note} · {userLabel(item.decided_by)} · {instant(item.decided_at)}</p>
      )}
    </li>
  );
}

function SpotCheck({ doc, user }) {
  const decides = may(user, 'relationship.spotcheck.approve') && user.id !== doc.rep_id;
  const check = useLoad((signal) => get(`${base(doc.id)}/spot-check`, { signal }), [doc.id]);
  const [drawError, setDrawError] = useState(null);
  const draw = async () => {
    setDrawError(null);
    try {
      await post(`${base(doc.id)}/spot-check`, {});
      check.reload();
    } catch (err) {
      setDrawError(err);
    }
  };
  const notDrawn = check.error && check.error.status === 404;
  if (!decides && (notDrawn || !check.data)) return null;
  const sc = check.data;
  return (
    <section class="panel" aria-labelledby="spot-title" data-testid="spot-check">
      <h2 id="spot-title">{t('spot.title')}</h2>
      {check.loading && !sc && <Loading />}
      {check.error && !notDrawn && <ErrorBox error={check.error} onRetry={check.reload} />}
      <ErrorBox error={drawError} />
      {notDrawn && (
        <div>
          <p>{t('spot.notDrawn')}</p>
          {/* the sample follows the first payout: before any draw there is nothing to check */}
          {doc.status === 'signed' && doc.drawn && Number(doc.drawn.amount) > 0
            ? <button type="button" class="btn btn-secondary" onClick={draw}>{t('spot.draw')}</button>
            : <p class="muted">{t('spot.afterPayout')}</p>}
        </div>
      )}
      {sc && (
        <div>
          <p class="note">{t('spot.basis', { seed: sc.seed, at: instant(sc.drawn_at) })}</p>
          <ol class="spot-items">
            {(sc.items || []).map((it) => (
              decides ? <SpotCheckItem key={it.party_id} statementId={doc.id} item={it} onDecided={check.reload} />
                : (
                  <li key={it.party_id} class="spot-item">
                    <Party id={it.party_id} /> <Status value={`spot_${it.outcome}`} />
                    {it.note && <div class="muted">{it.note}</div>}
                  </li>
                )
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

export default function StatementDetail({ id }) {
  const { user } = useSession();
  const { data: doc, error, loading, reload } = useLoad((signal) => get(base(id), { signal }), [id]);
  const [submit, setSubmit] = useState({ busy: false, error: null, done: false });
  if (loading && !doc) return <Loading />;
  if (error && error.status === 404) return <OutOfReach back="/statements" backLabel={t('stmt.back')} />;
  if (error) return <section><PageTitle text={t('statements.title')} /><ErrorBox error={error} onRetry={reload} /></section>;
  if (!doc) return null;
  const content = doc.content || {};
  const mine = doc.rep_id === user.id;
  const canSubmit = mine && may(user, 'relationship.statement.submit') && (doc.status === 'draft' || doc.status === 'returned');
  const canDraw = mine && may(user, 'relationship.payout.submit') && doc.status === 'signed';
  const doSubmit = async () => {
    setSubmit({ busy: true, error: null, done: false });
    try {
      await post(`${base(doc.id)}/submit`, {}, { headers: ifMatch(doc) });
      setSubmit({ busy: false, error: null, done: true });
      reload();
    } catch (err) {
      setSubmit({ busy: false, error: err, done: false });
    }
  };
  const advances = content.advances;
  return (
    <article aria-labelledby="statement-title">
      <p class="crumbs"><Link href="/statements">{t('stmt.back')}</Link></p>
      <PageTitle id="statement-title" text={t('stmt.title', { month: month(doc.period), rep: userLabel(doc.rep_id) })} />
      <div class="button-row">
        <a class="btn" href={`${base(doc.id)}/print`} target="_blank" rel="noopener" data-testid="print-link">{t('stmt.print')}</a>
        {may(user, 'relationship.audit.read') && may(user, 'annex.audit.view') && (
          <a class="btn" href={`${base(doc.id)}/evidence`} download data-testid="evidence-link">{t('audit.evidence')}</a>
        )}
      </div>
      {submit.done && <p class="alert alert-ok" role="status">{t('stmt.submitted')}</p>}
      <section class="panel" aria-labelledby="stmt-summary-title">
        <h2 id="stmt-summary-title">{t('stmt.summary')}</h2>
        <Facts items={[
          [t('statement.status'), <Status value={doc.status} />],
          [t('statement.valid'), doc.valid ? t('common.yes') : t('common.no')],
          [t('statement.sector'), doc.sector_id],
          [t('statement.dueSubmit'), doc.due && date(doc.due.submit)],
          [t('statement.dueSign'), doc.due && date(doc.due.sign)],
          [t('statement.payoutFrom'), doc.due && date(doc.due.payout_from)],
          [t('statement.submitted'), doc.submitted_at ? `${instant(doc.submitted_at)}${doc.submitted_late ? ` · ${t('statement.late')}` : ''}` : null],
          [t('statement.signedAt'), doc.signed_at ? `${instant(doc.signed_at)}${doc.signed_late ? ` · ${t('statement.late')}` : ''}` : null],
          [t('statement.feePayable'), money(doc.fee_payable)],
          [t('statement.specialPayable'), money(doc.special_payable)],
          [t('statement.recovered'), money(doc.recovered)],
          [t('statement.netPayable'), money(doc.net_payable)],
          [t('statement.recoveryDue'), money(doc.recovery_due)],
          [t('statement.drawn'), money(doc.drawn)],
          [t('statement.undrawn'), money(doc.undrawn)],
          [t('stmt.outstanding'), advances ? t('stmt.againstCap', { outstanding: money(advances.outstanding), cap: money(advances.cap) }) : null],
          [t('statement.contentHash'), doc.content_hash ? <code class="hash">{doc.content_hash}</code> : null],
        ]} />
        {canSubmit && (
          <div class="form-actions submit-row">
            <ErrorBox error={submit.error} />
            <button type="button" class="btn btn-primary" onClick={doSubmit} disabled={submit.busy} aria-busy={submit.busy ? 'true' : undefined}
              data-testid="statement-submit">
              {t('stmt.submit')}
            </button>
            <p class="hint">{t('stmt.submitHint')}</p>
          </div>
        )}
      </section>
      <Warnings content={content} />
      <section class="panel" aria-labelledby="stmt-sign-title">
        <h2 id="stmt-sign-title">{t('statement.signatures')}</h2>
        <Signatures doc={doc} testid="signatures" />
        {doc.approval_id && doc.status !== 'signed' && doc.status !== 'draft' && <ApprovalProgress approvalId={doc.approval_id} />}
      </section>
      {canDraw && <Payout doc={doc} onDrawn={reload} />}
      <SpotCheck doc={doc} user={user} />
      <section class="panel" aria-labelledby="stmt-customers-title">
        <h2 id="stmt-customers-title">{t('statement.customers')}</h2>
        <Customers content={content} />
      </section>
      <SpecialExpenses content={content} />
    </article>
  );
}

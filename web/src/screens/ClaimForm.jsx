// One expense claim. A draft (or a returned claim) is a form: purpose and lines, saved as the rep types (created
// with POST, then changed whole with PUT and If-Match, a moment after the last keystroke) so that each line's
// policy result comes back from the server while the rep is still on it; a receipt is uploaded to its line (a
// phone offers its camera); Submit sends it into its approval chain. A submitted claim is followed to payment.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, has } from '../i18n.js';
import { get, post, request, upload, ifMatch, seg } from '../api.js';
import { money, date, instant, loadCurrencies } from '../format.js';
import { minorUnitsOf } from '../money.js';
import { parseAmount, amountText } from '../amount.js';
import { categoryLabel } from '../labels.js';
import { may } from '../permissions.js';
import { Link, navigate } from '../router.js';
import { useSession } from '../session.js';
import { ErrorBox, Facts, Loading, PageTitle, Status } from '../components.jsx';
import { ApprovalProgress, OutOfReach, PolicyResults } from './parts.jsx';

export const PURPOSES = ['travel', 'customer', 'training', 'office', 'other'];
const SAVE_DELAY_MS = 700;
const editable = (c) => !c || c.status === 'draft' || c.status === 'returned';
let nextKey = 1;

const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};
const emptyLine = (currency) => ({
  key: nextKey++, date: today(), category: '', merchant: '', amount: '', currency, cost_centre: '', justification: '', receipt_sha256: null,
  attendee_count: '', attendees: '', attendeeKinds: {},
});
const lineFromServer = (l) => ({
  key: nextKey++, date: l.date || '', category: l.category || '', merchant: l.merchant || '',
  amount: l.amount ? amountText(l.amount.amount, minorUnitsOf(l.amount.currency)) : '', currency: (l.amount && l.amount.currency) || 'CNY',
  cost_centre: l.cost_centre || '', justification: l.justification || '', receipt_sha256: l.receipt_sha256 || null,
  attendee_count: l.attendee_count ? String(l.attendee_count) : '',
  attendees: (l.attendees || []).map((a) => a.name).join('\n'),
  attendeeKinds: Object.fromEntries((l.attendees || []).map((a) => [a.name, a.kind])),
});

/** The claim's body for POST/PUT, or the first thing missing ({line, field} with line -1 for the claim). */
export function claimBody(form) {
  if (!form.purpose) return { problem: { line: -1, field: 'purpose' } };
  const lines = [];
  for (let i = 0; i < form.lines.length; i++) {
    const l = form.lines[i];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(l.date)) return { problem: { line: i, field: 'date' } };
    if (!l.category) return { problem: { line: i, field: 'category' } };
    const minor = parseAmount(l.amount, minorUnitsOf(l.currency));
    if (!minor) return { problem: { line: i, field: 'amount' } };
    const line = { date: l.date, category: l.category, merchant: l.merchant.trim(), amount: { amount: minor, currency: l.currency } };
    if (l.cost_centre) line.cost_centre = l.cost_centre;
    if (l.justification.trim()) line.justification = l.justification.trim();
    if (l.receipt_sha256) line.receipt_sha256 = l.receipt_sha256;
    // who was entertained: names one a line (kinds kept from the server, else contacts) and how many in all
    const names = (l.attendees || '').split('\n').map((n) => n.trim()).filter(Boolean);
    if (names.length) line.attendees = names.map((name) => ({ kind: (l.attendeeKinds || {})[name] || 'contact', name }));
    if (String(l.attendee_count || '').trim()) {
      const n = Number(l.attendee_count);
      if (!Number.isInteger(n) || n < 1 || n > 10000 || n < names.length) return { problem: { line: i, field: 'attendee_count' } };
      line.attendee_count = n;
    }
    lines.push(line);
  }
  return { body: { purpose: form.purpose, lines } };
}

/** "lines[1].amount" as "Line 2: Amount"; anything else through the catalog's field labels. */
function fieldText(field) {
  const m = /^lines\[(\d+)\]\.?([\w.]*)$/.exec(field || '');
  if (m) {
    const member = m[2].split('.')[0];
    const label = member && has(`claimform.${member}`) ? t(`claimform.${member}`) : member;
    return label ? t('claimform.lineField', { n: Number(m[1]) + 1, field: label }) : t('claimform.line', { n: Number(m[1]) + 1 });
  }
  return field && has(`field.${field}`) ? t(`field.${field}`) : field;
}
const withFieldText = (err) => (err && err.field ? { ...err, field: fieldText(err.field) } : err);
const lineOfField = (field) => {
  const m = /^lines\[(\d+)\]\.?(\w*)/.exec(field || '');
  return m ? { line: Number(m[1]), field: m[2] } : null;
};

function ClaimLines({ claim }) {
  return (
    <div class="table-wrap">
      <table class="table table-cards" data-testid="claim-lines-view">
        <caption class="visually-hidden">{t('claim.lines')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('claim.col.no')}</th>
            <th scope="col">{t('claim.col.date')}</th>
            <th scope="col">{t('claim.col.category')}</th>
            <th scope="col">{t('claim.col.merchant')}</th>
            <th scope="col" class="num">{t('claim.col.amount')}</th>
            <th scope="col" class="num">{t('claim.col.sanctioned')}</th>
            <th scope="col">{t('claim.col.policy')}</th>
          </tr>
        </thead>
        <tbody>
          {(claim.lines || []).map((l) => (
            <tr key={l.line_no}>
              <td data-label={t('claim.col.no')}>{l.line_no}</td>
              <td data-label={t('claim.col.date')} class="nowrap">{date(l.date)}</td>
              <td data-label={t('claim.col.category')} class="nowrap">{categoryLabel(l.category)}</td>
              <td data-label={t('claim.col.merchant')} class="wide">
                {l.merchant || '—'}
                {l.receipt_sha256 && (
                  <div><a href={`/api/v1/expenses/claims/${seg(claim.id)}/lines/${l.line_no}/receipt`} target="_blank" rel="noopener">{t('claimform.viewReceipt', { n: l.line_no })}</a></div>
                )}
              </td>
              <td data-label={t('claim.col.amount')} class="num">{money(l.amount)}</td>
              <td data-label={t('claim.col.sanctioned')} class="num">
                {money(l.sanctioned)}
                {l.sanction_reason && <div class="muted">{l.sanction_reason}</div>}
              </td>
              <td data-label={t('claim.col.policy')} class="wide"><PolicyResults policy={l.policy} /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A claim past the draft: its state, amounts, lines and where it is on its way to payment. */
function ClaimStatus({ claim, justSubmitted }) {
  return (
    <div data-testid="claim-status">
      {justSubmitted && <p class="alert alert-ok" role="status">{t('claimform.submitted')}</p>}
      <section class="panel" aria-labelledby="claim-summary-title">
        <h2 id="claim-summary-title">{t('claimform.summary')}</h2>
        <Facts items={[
          [t('claim.status'), <Status value={claim.status} />],
          [t('claim.purpose'), t(`purpose.${claim.purpose}`)],
          [t('claim.total'), money(claim.total)],
          [t('claim.sanctioned'), money(claim.sanctioned)],
          [t('claim.settled'), money(claim.settled_against_advances)],
          [t('claim.reimbursable'), money(claim.reimbursable)],
          [t('claim.submitted'), claim.submitted_at ? instant(claim.submitted_at) : null],
          [t('claimform.decided'), claim.decided_at ? instant(claim.decided_at) : null],
          [t('claimform.paidOn'), claim.paid_on ? date(claim.paid_on) : null],
        ]} />
        <ol class="journey" aria-label={t('claimform.journey')}>
          {['submitted', 'approved', 'paid'].map((s) => {
            const order = { draft: 0, returned: 0, submitted: 1, approved: 2, posted: 2, paid: 3, rejected: -1 };
            const reached = order[claim.status] >= order[s];
            return (
              <li key={s} class={reached ? 'journey-done' : ''}>
                {t(`status.${s}`)}
                {reached && <span aria-hidden="true"> ✓</span>}
                <span class="visually-hidden"> ({t(reached ? 'claimform.reached' : 'claimform.notReached')})</span>
              </li>
            );
          })}
        </ol>
      </section>
      {claim.approval_id && (
        <section class="panel" aria-labelledby="claim-approval-title">
          <h2 id="claim-approval-title">{t('claimform.approval')}</h2>
          <ApprovalProgress approvalId={claim.approval_id} />
        </section>
      )}
      <section class="panel" aria-labelledby="claim-lines-title">
        <h2 id="claim-lines-title">{t('claim.lines')}</h2>
        <ClaimLines claim={claim} />
      </section>
    </div>
  );
}

function LineEditor({ line, index, count, saved, claim, currencies, categories, costCentres, problem, onChange, onRemove, onReceipt, receiptBusy }) {
  const p = (field) => problem && problem.line === index && problem.field === field;
  const id = (f) => `line-${line.key}-${f}`;
  const invalid = (f) => (p(f) ? { 'aria-invalid': 'true', 'aria-describedby': `${id(f)}-problem` } : {});
  const problemText = (f) => p(f) && <p id={`${id(f)}-problem`} class="field-error">{t(`claimform.problem.${f}`)}</p>;
  const set = (f) => (e) => onChange(index, { [f]: e.currentTarget.value });
  const policy = saved ? saved.policy : null;
  const needsJustification = policy && policy.outcome !== 'ok';
  return (
    <fieldset class="claim-line" data-testid="claim-line">
      <legend>{t('claimform.line', { n: index + 1 })}</legend>
      <div class="line-grid">
        <div class="field">
          <label for={id('date')}>{t('claimform.date')}</label>
          <input id={id('date')} type="date" value={line.date} onInput={set('date')} {...invalid('date')} />
          {problemText('date')}
        </div>
        <div class="field">
          <label for={id('category')}>{t('claimform.category')}</label>
          <select id={id('category')} value={line.category} onChange={set('category')} {...invalid('category')}>
            <option value="">{t('claimform.choose')}</option>
            {line.category && !categories.includes(line.category) && <option value={line.category}>{categoryLabel(line.category)}</option>}
            {categories.map((c) => <option key={c} value={c}>{categoryLabel(c)}</option>)}
          </select>
          {problemText('category')}
        </div>
        <div class="field field-wide">
          <label for={id('merchant')}>{t('claimform.merchant')}</label>
          <input id={id('merchant')} maxLength={200} value={line.merchant} onInput={set('merchant')} autoComplete="off" />
        </div>
        <div class="field">
          <label for={id('amount')}>{t('claimform.amount')}</label>
          <input id={id('amount')} inputMode="decimal" autoComplete="off" value={line.amount} onInput={set('amount')} {...invalid('amount')} />
          {problemText('amount')}
        </div>
        <div class="field">
          <label for={id('currency')}>{t('claimform.currency')}</label>
          <select id={id('currency')} value={line.currency} onChange={set('currency')}>
            {(currencies.includes(line.currency) ? currencies : [line.currency, ...currencies]).map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        </div>
        <div class="field">
          <label for={id('cost_centre')}>{t('claimform.costCentre')}</label>
          <select id={id('cost_centre')} value={line.cost_centre} onChange={set('cost_centre')}>
            <option value="">{t('claimform.noCostCentre')}</option>
            {line.cost_centre && !costCentres.some((c) => c.code === line.cost_centre) && <option value={line.cost_centre}>{line.cost_centre}</option>}
            {costCentres.map((c) => <option key={c.code} value={c.code}>{c.name ? `${c.name} (${c.code})` : c.code}</option>)}
          </select>
        </div>
        <div class="field">
          <label for={id('receipt')}>{t('claimform.receipt')}</label>
          <input id={id('receipt')} type="file" accept="image/*,application/pdf" capture="environment"
            aria-describedby={id('receipt-state')} disabled={receiptBusy}
            onChange={(e) => { const f = e.currentTarget.files && e.currentTarget.files[0]; if (f) onReceipt(index, f); e.currentTarget.value = ''; }} />
          <p id={id('receipt-state')} class="hint" data-testid="receipt-state">
            {receiptBusy ? t('claimform.receiptUploading')
              : line.receipt_sha256 && claim ? (
                <a href={`/api/v1/expenses/claims/${seg(claim.id)}/lines/${index + 1}/receipt`} target="_blank" rel="noopener">{t('claimform.receiptAttached')}</a>
              ) : t('claimform.receiptHint')}
          </p>
        </div>
        {(line.category === 'entertainment' || line.attendees || line.attendee_count) && (
          <div class="field">
            <label for={id('attendee_count')}>{t('claimform.attendee_count')}</label>
            <input id={id('attendee_count')} type="number" min="1" max="10000" step="1" inputMode="numeric" value={line.attendee_count}
              onInput={set('attendee_count')} {...invalid('attendee_count')} />
            {problemText('attendee_count')}
          </div>
        )}
        {(line.category === 'entertainment' || line.attendees) && (
          <div class="field field-wide">
            <label for={id('attendees')}>{t('claimform.attendees')}</label>
            <textarea id={id('attendees')} rows={2} value={line.attendees} onInput={set('attendees')} aria-describedby={`${id('attendees')}-hint`} />
            <p id={`${id('attendees')}-hint`} class="hint">{t('claimform.attendeesHint')}</p>
          </div>
        )}
        {(needsJustification || line.justification) && (
          <div class="field field-wide">
            <label for={id('justification')}>{t('claimform.justification')}</label>
            <textarea id={id('justification')} rows={2} maxLength={1000} value={line.justification} onInput={set('justification')}
              aria-describedby={`${id('justification')}-hint`} {...invalid('justification')} />
            <p id={`${id('justification')}-hint`} class="hint">{t('claimform.justificationHint')}</p>
          </div>
        )}
      </div>
      <div class="line-foot">
        <div class="line-policy" aria-live="polite">
          <span class="visually-hidden">{t('claimform.policyOf', { n: index + 1 })} </span>
          {policy ? <PolicyResults policy={policy} /> : <span class="muted">{t('claimform.policyPending')}</span>}
        </div>
        {count > 1 && (
          <button type="button" class="btn btn-small btn-danger-quiet" onClick={() => onRemove(index)}>
            {t('claimform.removeLine', { n: index + 1 })}
          </button>
        )}
      </div>
    </fieldset>
  );
}

export default function ClaimForm({ id }) {
  const { user } = useSession();
  const isNew = id === 'new';
  const [claim, setClaim] = useState(null);
  const [form, setForm] = useState(() => ({ purpose: '', lines: [emptyLine('CNY')] }));
  const [load, setLoad] = useState({ loading: !isNew, error: null });
  const [save, setSave] = useState({ state: 'idle', error: null, problem: null });
  const [submitState, setSubmitState] = useState({ busy: false, error: null, done: false });
  const [receiptBusy, setReceiptBusy] = useState(-1);
  const [receiptError, setReceiptError] = useState(null);
  const [currencies, setCurrencies] = useState(['CNY']);
  const [costCentres, setCostCentres] = useState([]);
  const [categories, setCategories] = useState([]);
  const formRef = useRef(form);
  const claimRef = useRef(claim);
  const queue = useRef(Promise.resolve(true));
  const timer = useRef(0);
  const lastSaved = useRef('');
  formRef.current = form;
  claimRef.current = claim;

  // For the selects: currencies and cost centres from master data, the company's expense categories from the
  // expenses plugin (a refusal leaves CNY, no cost centre and no category).
  useEffect(() => {
    loadCurrencies().then((m) => m.size && setCurrencies([...m.keys()].sort()), () => {});
    get('/api/v1/expenses/categories').then((d) => setCategories(((d && d.items) || []).map((c) => c.code)), () => {});
    get('/api/v1/masterdata/cost_centres?limit=500').then(
      (d) => setCostCentres(((d && d.items) || []).map((r) => ({ ...r, ...(r.fields || {}) })).filter((r) => r.code && r.status !== 'inactive')),
      () => {},
    );
    return () => clearTimeout(timer.current);
  }, []);

  // An existing claim: loaded once per id (a new one just created keeps what is on screen).
  useEffect(() => {
    if (isNew && claimRef.current) {
      // from another claim to a new one: start afresh
      clearTimeout(timer.current);
      claimRef.current = null;
      lastSaved.current = '';
      setClaim(null);
      setForm({ purpose: '', lines: [emptyLine('CNY')] });
      setSave({ state: 'idle', error: null, problem: null });
      setSubmitState({ busy: false, error: null, done: false });
      return undefined;
    }
    if (isNew || (claimRef.current && claimRef.current.id === id)) return undefined;
    const ctl = new AbortController();
    clearTimeout(timer.current);
    setSave({ state: 'idle', error: null, problem: null });
    setSubmitState({ busy: false, error: null, done: false });
    setLoad({ loading: true, error: null });
    get(`/api/v1/expenses/claims/${seg(id)}`, { signal: ctl.signal }).then((c) => {
      setClaim(c);
      const f = { purpose: c.purpose || '', lines: (c.lines || []).map(lineFromServer) };
      if (!f.lines.length) f.lines.push(emptyLine((c.total && c.total.currency) || 'CNY'));
      setForm(f);
      lastSaved.current = JSON.stringify(claimBody(f).body || null);
      setLoad({ loading: false, error: null });
    }, (error) => !ctl.signal.aborted && setLoad({ loading: false, error }));
    return () => ctl.abort();
  }, [id]);

  /**
   * Saves what is on screen now (after anything already under way); resolves true once the server holds it.
   * While the rep types, an incomplete form waits quietly; asked for (submit, a receipt), the field is marked.
   */
  const saveNow = (asked = true) => {
    clearTimeout(timer.current);
    queue.current = queue.current.then(async () => {
      const { body, problem } = claimBody(formRef.current);
      if (problem) {
        setSave({ state: asked ? 'incomplete' : 'waiting', error: null, problem: asked ? problem : null });
        return false;
      }
      const text = JSON.stringify(body);
      if (claimRef.current && text === lastSaved.current) {
        setSave((s) => ({ state: s.state === 'idle' ? 'idle' : 'saved', error: null, problem: null }));
        return true;
      }
      setSave({ state: 'saving', error: null, problem: null });
      try {
        const current = claimRef.current;
        const saved = current
          ? await request('PUT', `/api/v1/expenses/claims/${seg(current.id)}`, body, { headers: ifMatch(current) })
          : await post('/api/v1/expenses/claims', body);
        lastSaved.current = text;
        claimRef.current = saved;
        setClaim(saved);
        setSave({ state: 'saved', error: null, problem: null });
        if (!current) navigate(`/expenses/claims/${encodeURIComponent(saved.id)}`, { replace: true });
        return true;
      } catch (error) {
        const at = lineOfField(error.field);
        setSave({ state: 'error', error, problem: at });
        return false;
      }
    });
    return queue.current;
  };

  const schedule = () => {
    clearTimeout(timer.current);
    setSave((s) => ({ ...s, state: 'pending' }));
    timer.current = setTimeout(() => saveNow(false), SAVE_DELAY_MS);
  };

  const change = (next) => {
    formRef.current = next;
    setForm(next);
    schedule();
  };
  const setPurpose = (purpose) => change({ ...formRef.current, purpose });
  const changeLine = (i, patch) => change({ ...formRef.current, lines: formRef.current.lines.map((l, j) => (j === i ? { ...l, ...patch } : l)) });
  const removeLine = (i) => {
    const lines = formRef.current.lines.filter((_, j) => j !== i);
    change({ ...formRef.current, lines });
    // the button pressed is gone: the focus goes to the line now in its place (or the one before it)
    const next = lines[Math.min(i, lines.length - 1)];
    setTimeout(() => {
      const el = next && document.getElementById(`line-${next.key}-date`);
      if (el) el.focus();
    }, 0);
  };
  const addLine = () => {
    const last = formRef.current.lines[formRef.current.lines.length - 1];
    const next = { ...formRef.current, lines: [...formRef.current.lines, emptyLine(last ? last.currency : 'CNY')] };
    formRef.current = next;
    setForm(next);
    setTimeout(() => {
      const el = document.getElementById(`line-${next.lines[next.lines.length - 1].key}-date`);
      if (el) el.focus();
    }, 0);
  };

  const attachReceipt = async (i, file) => {
    setReceiptError(null);
    setReceiptBusy(i);
    try {
      const ok = await saveNow();
      const current = claimRef.current;
      if (!ok || !current || !(current.lines || [])[i]) {
        setReceiptError({ code: 'receipt_needs_line', status: 0, serverMessage: '', field: null });
        return;
      }
      queue.current = queue.current.then(async () => {
        const saved = await upload(`/api/v1/expenses/claims/${seg(current.id)}/lines/${i + 1}/receipt`, file, { field: 'receipt' });
        const sha = saved.receipt ? saved.receipt.sha256 : saved.lines[i].receipt_sha256;
        const next = { ...formRef.current, lines: formRef.current.lines.map((l, j) => (j === i ? { ...l, receipt_sha256: sha } : l)) };
        formRef.current = next;
        setForm(next);
        lastSaved.current = JSON.stringify(claimBody(next).body || null);
        claimRef.current = saved;
        setClaim(saved);
        return true;
      }).catch((error) => { setReceiptError(error); return false; });
      await queue.current;
    } finally {
      setReceiptBusy(-1);
    }
  };

  const submit = async (e) => {
    e.preventDefault();
    setSubmitState({ busy: true, error: null, done: false });
    const ok = await saveNow();
    if (!ok) {
      setSubmitState({ busy: false, error: null, done: false });
      const first = document.querySelector('.claim-form [aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    try {
      const current = claimRef.current;
      const submitted = await post(`/api/v1/expenses/claims/${seg(current.id)}/submit`, {}, { headers: ifMatch(current) });
      claimRef.current = submitted;
      setClaim(submitted);
      setSubmitState({ busy: false, error: null, done: true });
      setTimeout(() => { const h = document.querySelector('main h1'); if (h) h.focus(); }, 0);
    } catch (error) {
      setSubmitState({ busy: false, error, done: false });
      const at = lineOfField(error.field);
      if (at) setSave((s) => ({ ...s, problem: at }));
    }
  };

  if (load.loading) return <Loading />;
  if (load.error && load.error.status === 404) return <OutOfReach back="/expenses" backLabel={t('claimform.back')} />;
  const title = claim ? t('claimform.title', { number: claim.number || claim.id }) : t('claimform.newTitle');
  const mine = !claim || claim.claimant_id === user.id;
  return (
    <article aria-labelledby="claim-title">
      <p class="crumbs"><Link href="/expenses">{t('claimform.back')}</Link></p>
      <PageTitle id="claim-title" text={title} />
      <ErrorBox error={load.error} />
      {claim && (!editable(claim) || !mine || !may(user, 'expenses.claim.write')) ? (
        <ClaimStatus claim={claim} justSubmitted={submitState.done} />
      ) : (
        <form class="form claim-form" onSubmit={submit} noValidate data-testid="claim-form">
          {claim && claim.status === 'returned' && <p class="alert alert-warn">{t('claimform.returned')}</p>}
          {claim && claim.approval_id && claim.status === 'returned' && (
            <section class="panel" aria-labelledby="claim-approval-title">
              <h2 id="claim-approval-title">{t('claimform.approval')}</h2>
              <ApprovalProgress approvalId={claim.approval_id} />
            </section>
          )}
          <div class="field claim-purpose">
            <label for="claim-purpose">{t('claimform.purpose')}</label>
            <select id="claim-purpose" value={form.purpose} onChange={(e) => setPurpose(e.currentTarget.value)}
              aria-invalid={save.problem && save.problem.line === -1 ? 'true' : undefined}
              aria-describedby={save.problem && save.problem.line === -1 ? 'claim-purpose-problem' : undefined}>
              <option value="">{t('claimform.choose')}</option>
              {PURPOSES.map((p) => <option key={p} value={p}>{t(`purpose.${p}`)}</option>)}
            </select>
            {save.problem && save.problem.line === -1 && <p id="claim-purpose-problem" class="field-error">{t('claimform.problem.purpose')}</p>}
          </div>
          {form.lines.map((l, i) => (
            <LineEditor key={l.key} line={l} index={i} count={form.lines.length} claim={claim}
              saved={claim && claim.lines && claim.lines[i] ? claim.lines[i] : null}
              currencies={currencies} categories={categories} costCentres={costCentres} problem={save.problem}
              onChange={changeLine} onRemove={removeLine} onReceipt={attachReceipt} receiptBusy={receiptBusy === i} />
          ))}
          <div>
            <button type="button" class="btn btn-secondary" onClick={addLine}>{t('claimform.addLine')}</button>
          </div>
          {receiptError && (
            receiptError.code === 'receipt_needs_line'
              ? <p class="alert alert-error" role="alert">{t('claimform.receiptNeedsLine')}</p>
              : <ErrorBox error={withFieldText(receiptError)} context="receipt" />
          )}
          <p class="save-state" role="status" data-testid="save-state" data-state={save.state}>
            {save.state === 'idle' ? '' : t(`claimform.save.${save.state}`)}
            {claim && save.state !== 'error' && <span> · {t('claimform.totalNow', { total: money(claim.total) })}</span>}
          </p>
          {save.state === 'error' && <ErrorBox error={withFieldText(save.error)} />}
          <ErrorBox error={withFieldText(submitState.error)} context="claimsubmit" />
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={submitState.busy} aria-busy={submitState.busy ? 'true' : undefined}>
              {t('claimform.submit')}
            </button>
            <p class="hint">{t('claimform.submitHint')}</p>
          </div>
        </form>
      )}
    </article>
  );
}

// The document an approval decides on, as its own plugin serves it. Each is fetched only when the user's
// permissions reach its kind; a record out of reach answers 404 and is said to be so.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get, seg } from '../api.js';
import { money, minor, bp, count, date, instant, month } from '../format.js';
import { userLabel, partyLabel } from '../directory.js';
import { categoryLabel, stepLabel, policyRuleLabel } from '../labels.js';
import { may } from '../permissions.js';
import { ErrorBox, Facts, Loading, Notice, Status, useLoad } from '../components.jsx';
import { Signatures } from './parts.jsx';

const SUBJECTS = {
  // A claim with what deciding it needs: duplicates, reused receipts, the claimant's outstanding advances.
  'expenses.claim': { permission: 'expenses.claim.read', path: (id) => `/api/v1/expenses/claims/${seg(id)}/review`, View: ClaimView },
  'expenses.advance': { permission: 'expenses.advance.read', path: (id) => `/api/v1/expenses/advances/${seg(id)}`, View: AdvanceView },
  'relationship.statement': {
    permission: 'relationship.statement.read',
    path: (id) => `/api/v1/relationship-spending/statements/${seg(id)}`,
    View: StatementView,
  },
  'relationship.special_expense': {
    permission: 'relationship.special.read',
    path: (id) => `/api/v1/relationship-spending/special-expenses/${seg(id)}`,
    View: SpecialExpenseView,
  },
};

export function Subject({ approval, user }) {
  const kind = SUBJECTS[approval.item_type];
  if (!kind) return <Notice>{t('subject.unknownKind', { type: approval.item_type })}</Notice>;
  if (!may(user, kind.permission)) return <Notice>{t('subject.noPermission')}</Notice>;
  return <SubjectLoader kind={kind} id={approval.item_id} />;
}

function SubjectLoader({ kind, id }) {
  const { data, error, loading, reload } = useLoad((signal) => get(kind.path(id), { signal }), [id]);
  if (loading && !data) return <Loading />;
  if (error && error.status === 404) return <Notice>{t('subject.outOfReach')}</Notice>;
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  const View = kind.View;
  return data ? <View doc={data} /> : null;
}

/** A customer by name when master data lets the user read it, else by id. */
function Party({ id }) {
  const [label, setLabel] = useState(null);
  useEffect(() => {
    let live = true;
    setLabel(null);
    partyLabel(id).then((l) => live && setLabel(l));
    return () => { live = false; };
  }, [id]);
  if (!id) return null;
  return <span title={id}>{label || id}</span>;
}

function PolicyResults({ policy }) {
  if (!policy) return '—';
  const results = (policy.results || []).filter((r) => r.outcome !== 'ok');
  return (
    <div class="policy">
      <Status value={`policy_${policy.outcome || 'ok'}`} />
      {results.length > 0 && (
        <ul class="policy-results">
          {results.map((r, i) => (
            <li key={i}>
              <span class="policy-rule">{policyRuleLabel(r.rule)}</span>
              {r.message && <span class="policy-message">{r.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ClaimView({ doc }) {
  const basis = doc.chain && doc.chain.basis;
  return (
    <div>
      <Facts items={[
        [t('claim.number'), doc.number],
        [t('claim.claimant'), userLabel(doc.claimant_id)],
        [t('claim.purpose'), doc.purpose],
        [t('claim.period'), doc.period],
        [t('claim.customer'), doc.party_id ? <Party id={doc.party_id} /> : null],
        [t('claim.contract'), doc.contract_id],
        [t('claim.status'), <Status value={doc.status} />],
        [t('claim.total'), money(doc.total)],
        [t('claim.sanctioned'), money(doc.sanctioned)],
        [t('claim.settled'), money(doc.settled_against_advances)],
        [t('claim.reimbursable'), money(doc.reimbursable)],
        [t('claim.submitted'), doc.submitted_at ? instant(doc.submitted_at) : null],
      ]} />
      {doc.chain && (
        <p class="note">
          {t('claim.chainBasis', {
            amount: money(doc.chain.amount),
            days: basis && basis.window_days !== undefined ? basis.window_days : '—',
            others: basis && basis.other_claims !== undefined ? count(basis.other_claims) : '0',
          })}
        </p>
      )}
      <h3>{t('claim.lines')}</h3>
      <div class="table-wrap">
        <table class="table table-cards" data-testid="claim-lines">
          <caption class="visually-hidden">{t('claim.lines')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('claim.col.no')}</th>
              <th scope="col">{t('claim.col.date')}</th>
              <th scope="col">{t('claim.col.category')}</th>
              <th scope="col">{t('claim.col.merchant')}</th>
              <th scope="col" class="num">{t('claim.col.amount')}</th>
              <th scope="col" class="num">{t('claim.col.companyAmount')}</th>
              <th scope="col" class="num">{t('claim.col.sanctioned')}</th>
              <th scope="col">{t('claim.col.policy')}</th>
            </tr>
          </thead>
          <tbody>
            {(doc.lines || []).map((l) => (
              <tr key={l.line_no}>
                <td data-label={t('claim.col.no')}>{l.line_no}</td>
                <td data-label={t('claim.col.date')} class="nowrap">{date(l.date)}</td>
                <td data-label={t('claim.col.category')} class="nowrap">{categoryLabel(l.category)}</td>
                <td data-label={t('claim.col.merchant')} class="wide">
                  {l.merchant || '—'}
                  {l.description && <div class="muted">{l.description}</div>}
                  {l.attendee_count ? <div class="muted">{t('claim.attendees', { count: l.attendee_count })}</div> : null}
                  {l.justification && <div class="muted">{t('claim.justification', { text: l.justification })}</div>}
                </td>
                <td data-label={t('claim.col.amount')} class="num">{money(l.amount)}</td>
                <td data-label={t('claim.col.companyAmount')} class="num">{money(l.company_amount)}</td>
                <td data-label={t('claim.col.sanctioned')} class="num">
                  {money(l.sanctioned)}
                  {l.sanction_reason && <div class="muted">{l.sanction_reason}</div>}
                </td>
                <td data-label={t('claim.col.policy')} class="wide">
                  <PolicyResults policy={l.policy} />
                  {l.receipt_sha256 && <Receipt claim={doc.id} line={l.line_no} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {doc.review && <ClaimReview review={doc.review} currency={doc.currency} />}
    </div>
  );
}

/** A line's receipt shown inline: a photo as itself, anything else (a PDF) as a link to open it. */
function Receipt({ claim, line }) {
  const [image, setImage] = useState(true);
  const href = `/api/v1/expenses/claims/${seg(claim)}/lines/${seg(String(line))}/receipt`;
  return (
    <div class="receipt" data-testid={`receipt-${line}`}>
      {image && <img src={href} alt={t('claim.receiptOf', { line })} loading="lazy" onError={() => setImage(false)} />}
      <a href={href} target="_blank" rel="noopener">{t('claim.openReceipt', { line })}</a>
    </div>
  );
}

/** What the claim's review adds: duplicates, receipts used elsewhere, the claimant's outstanding advances. */
function ClaimReview({ review }) {
  const duplicates = review.duplicates || [];
  const reused = review.reused_receipts || [];
  const advances = review.outstanding_advances || {};
  const open = advances.paid_and_open || [];
  return (
    <div data-testid="claim-review">
      <h3>{t('claim.review')}</h3>
      <ul class="plain">
        <li>{duplicates.length === 0 ? t('claim.noDuplicates')
          : duplicates.map((d) => t('claim.duplicateOf', { line: d.line_no, claim: (d.other && d.other.other_claim) || '—', other: (d.other && d.other.other_line) || '—' })).join(' · ')}</li>
        <li>{reused.length === 0 ? t('claim.noReusedReceipts')
          : reused.map((r) => t('claim.receiptReused', { line: r.line_no, uses: (r.uses || []).join(', ') })).join(' · ')}</li>
        <li>{t('claim.outstandingAdvances', { amount: advances.balance ? money(advances.balance) : '—', count: count(open.length) })}</li>
      </ul>
    </div>
  );
}

function AdvanceView({ doc }) {
  return (
    <Facts items={[
      [t('advance.number'), doc.number],
      [t('advance.requester'), userLabel(doc.requester_id)],
      [t('advance.purpose'), doc.purpose],
      [t('advance.customer'), doc.party_id ? <Party id={doc.party_id} /> : null],
      [t('advance.reference'), doc.reference],
      [t('advance.status'), <Status value={doc.status} />],
      [t('advance.amount'), money(doc.amount)],
      [t('advance.settled'), money(doc.settled)],
      [t('advance.returned'), money(doc.returned)],
      [t('advance.open'), money(doc.open)],
      [t('advance.paidOn'), doc.paid_on ? date(doc.paid_on) : null],
      [t('advance.requested'), instant(doc.created_at)],
    ]} />
  );
}

function SpecialExpenseView({ doc }) {
  return (
    <Facts items={[
      [t('special.rep'), userLabel(doc.rep_id)],
      [t('special.customer'), doc.party_id ? <Party id={doc.party_id} /> : null],
      [t('special.opportunity'), doc.opportunity_id],
      [t('special.purpose'), doc.purpose],
      [t('special.amount'), money(doc.amount)],
      [t('special.justification'), <span class="prewrap">{doc.justification}</span>],
      [t('special.status'), <Status value={doc.status} />],
      [t('special.filed'), doc.filed_on ? date(doc.filed_on) : null],
    ]} />
  );
}

function Ratio({ ratio }) {
  if (!ratio || ratio.bp === null || ratio.bp === undefined) return '—';
  return (
    <span class={ratio.warning ? 'ratio ratio-warn' : 'ratio'}>
      {bp(ratio.bp)}
      {ratio.warning && <span class="badge badge-warn">{t('statement.aboveThreshold')}</span>}
    </span>
  );
}

function StatementView({ doc }) {
  const content = doc.content || {};
  const cur = content.currency || (doc.net_payable && doc.net_payable.currency) || '';
  const customers = content.customers || [];
  const warnings = content.warnings || [];
  return (
    <div>
      <Facts items={[
        [t('statement.period'), month(doc.period)],
        [t('statement.rep'), userLabel(doc.rep_id)],
        [t('statement.sector'), doc.sector_id],
        [t('statement.status'), <Status value={doc.status} />],
        [t('statement.valid'), doc.valid ? t('common.yes') : t('common.no')],
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
        [t('statement.contentHash'), doc.content_hash ? <code class="hash">{doc.content_hash}</code> : null],
      ]} />

      {warnings.length > 0 && (
        <div class="alert alert-warn" role="note">
          <p class="alert-title">{t('statement.warnings', { count: warnings.length })}</p>
          <ul>
            {warnings.map((w, i) => (
              <li key={i}>
                {t(`statement.warning.${w.kind}`, {
                  party: w.party_id || '—', contract: w.contract_id || '—',
                  ratio: w.ratio_bp !== undefined ? bp(w.ratio_bp) : '—',
                  spend: w.spend_in_window !== undefined ? minor(w.spend_in_window, cur) : '—',
                })}
              </li>
            ))}
          </ul>
        </div>
      )}

      <h3>{t('statement.signatures')}</h3>
      <Signatures doc={doc} testid="statement-signatures" />

      <h3>{t('statement.customers')}</h3>
      {customers.length === 0 ? (
        <p class="muted">{t('statement.noCustomers')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="statement-customers">
            <caption class="visually-hidden">{t('statement.customers')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statement.col.customer')}</th>
                <th scope="col" class="num">{t('statement.col.feeEarned')}</th>
                <th scope="col" class="num">{t('statement.col.feePayable')}</th>
                <th scope="col" class="num">{t('statement.col.recovered')}</th>
                <th scope="col" class="num">{t('statement.col.collected')}</th>
                <th scope="col" class="num">{t('statement.col.spendWindow')}</th>
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
                                number: k.number || k.contract_id,
                                signed: date(k.signed_on),
                                value: money(k.value),
                                month: money(k.collected_in_month),
                                total: money(k.collected_to_date),
                              })}
                              {' '}<Ratio ratio={k.ratio} />
                            </li>
                          ))}
                        </ul>
                      </details>
                    )}
                  </th>
                  <td data-label={t('statement.col.feeEarned')} class="num">{minor(c.fee_earned, cur)}</td>
                  <td data-label={t('statement.col.feePayable')} class="num">{minor(c.fee_payable, cur)}</td>
                  <td data-label={t('statement.col.recovered')} class="num">{minor(c.recovered, cur)}</td>
                  <td data-label={t('statement.col.collected')} class="num">{minor(c.collected_to_date, cur)}</td>
                  <td data-label={t('statement.col.spendWindow')} class="num">
                    {c.spend ? minor(c.spend.in_window, cur) : '—'}
                    {c.spend && c.spend.limit !== null && c.spend.limit !== undefined && (
                      <div class="muted">{t('statement.limit', { limit: minor(c.spend.limit, cur), days: c.spend.window_days })}</div>
                    )}
                    {c.spend && c.spend.over_limit && <span class="badge badge-warn">{t('statement.overLimit')}</span>}
                  </td>
                  <td data-label={t('statement.col.ratio')} class="num"><Ratio ratio={c.ratio} /></td>
                </tr>
              ))}
            </tbody>
            {content.totals && (
              <tfoot>
                <tr>
                  <th scope="row" data-label="">{t('statement.totals')}</th>
                  <td data-label={t('statement.col.feeEarned')} class="num">{minor(content.totals.fee_earned, cur)}</td>
                  <td data-label={t('statement.col.feePayable')} class="num">{minor(content.totals.fee_payable, cur)}</td>
                  <td data-label={t('statement.col.recovered')} class="num">{minor(content.totals.recovered, cur)}</td>
                  <td colSpan={3} data-label={t('statement.netPayable')} class="num">
                    {t('statement.netPayable')}: {minor(content.totals.net_payable, cur)}
                  </td>
                </tr>
              </tfoot>
            )}
          </table>
        </div>
      )}
    </div>
  );
}

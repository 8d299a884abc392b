// Pieces the expenses, statements and audit screens share: a customer's name, a ratio, an approval's progress,
// and the not-found state of a record out of reach.
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get, seg } from '../api.js';
import { bp, instant } from '../format.js';
import { userLabel, partyLabel } from '../directory.js';
import { stepLabel, policyRuleLabel } from '../labels.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, PageTitle, Status, useLoad } from '../components.jsx';

/** A customer by name when master data lets the user read it, else by id. */
export function Party({ id }) {
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

/** Spending ÷ collections in percent, flagged above the threshold. */
export function Ratio({ ratio }) {
  if (!ratio || ratio.bp === null || ratio.bp === undefined) return <span>—</span>;
  return (
    <span class={ratio.warning ? 'ratio ratio-warn' : 'ratio'}>
      {bp(ratio.bp)}
      {ratio.warning && <span class="badge badge-warn">{t('statement.aboveThreshold')}</span>}
    </span>
  );
}

/** A line's policy outcome and, when not ok, each rule with the server's words. */
export function PolicyResults({ policy, id }) {
  if (!policy) return <span id={id}>—</span>;
  const results = (policy.results || []).filter((r) => r.outcome !== 'ok');
  return (
    <div class="policy" id={id}>
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

/** Where an item stands in its approval chain: each step, then the decisions taken so far. */
export function ApprovalProgress({ approvalId }) {
  const { data, error, loading, reload } = useLoad((signal) => get(`/api/v1/approvals/${seg(approvalId)}`, { signal }), [approvalId]);
  if (loading && !data) return <Loading />;
  if (error && error.status === 404) return <p class="muted">{t('progress.outOfReach')}</p>;
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (!data) return null;
  const approvedInRound = new Set((data.decisions || []).filter((d) => d.round === data.round && d.decision === 'approve').map((d) => d.step));
  return (
    <div data-testid="approval-progress">
      <p>
        <Status value={data.status} />
        {data.round > 1 && <span class="muted"> · {t('approval.round', { round: data.round })}</span>}
      </p>
      <ol class="steps">
        {(data.steps || []).map((s) => {
          const state = data.current_step === s ? 'current' : approvedInRound.has(s) ? 'done' : 'waiting';
          return (
            <li key={s} class={`step step-${state}`}>
              <span class="step-name">{stepLabel(s)}</span>
              <span class="step-state">{t(`approval.step.${state}`)}</span>
            </li>
          );
        })}
      </ol>
      {(data.decisions || []).length > 0 && (
        <ul class="decisions">
          {data.decisions.map((d, i) => (
            <li key={i}>
              <Status value={d.decision} /> {stepLabel(d.step)} · {userLabel(d.decider_id)} · {instant(d.at)}
              {d.comment && <div class="muted prewrap">{d.comment}</div>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A record that does not exist or lies out of the user's reach: the API answers both with 404, and so do we. */
export function OutOfReach({ back, backLabel }) {
  return (
    <section data-testid="out-of-reach">
      <PageTitle text={t('reach.title')} />
      <p>{t('reach.body')}</p>
      {back && <p><Link href={back}>{backLabel}</Link></p>}
    </section>
  );
}

/** The month before today's, "YYYY-MM" (what last month's statements are filed under). */
export function lastMonth(now = new Date()) {
  const d = new Date(Date.UTC(now.getFullYear(), now.getMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** A statement's signatures so far, step by step, and the steps still unsigned. */
export function Signatures({ doc, testid }) {
  const sig = doc.signatures || { signed: [], missing: [] };
  return (
    <div class="table-wrap">
      <table class="table table-cards" data-testid={testid}>
        <caption class="visually-hidden">{t('statement.signatures')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('statement.col.step')}</th>
            <th scope="col">{t('statement.col.signedBy')}</th>
            <th scope="col">{t('statement.col.at')}</th>
          </tr>
        </thead>
        <tbody>
          {(sig.signed || []).map((s, i) => (
            <tr key={`s${i}`}>
              <td data-label={t('statement.col.step')}>{stepLabel(s.step)}</td>
              <td data-label={t('statement.col.signedBy')}>
                {userLabel(s.by)}
                {s.on_behalf_of && <span class="muted"> {t('approval.onBehalfOf', { name: userLabel(s.on_behalf_of) })}</span>}
              </td>
              <td data-label={t('statement.col.at')}>{instant(s.at)}</td>
            </tr>
          ))}
          {(sig.missing || []).map((m) => (
            <tr key={`m${m}`} class="row-missing">
              <td data-label={t('statement.col.step')}>{stepLabel(m)}</td>
              <td data-label={t('statement.col.signedBy')} colSpan={2} class="wide"><Status value="unsigned" /></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get, post, seg } from '../api.js';
import { money, instant } from '../format.js';
import { userLabel } from '../directory.js';
import { itemLabel, chainLabel, stepLabel, decisionLabel } from '../labels.js';
import { Link } from '../router.js';
import { useSession } from '../session.js';
import { ErrorBox, Facts, Loading, Notice, PageTitle, Status, useLoad } from '../components.jsx';
import { Subject } from './subjects.jsx';
import { mayTakeStep, delegationsFor } from '../delegation.js';

const DECISIONS = ['approve', 'return', 'reject'];

function Steps({ approval }) {
  const approvedInRound = new Set((approval.decisions || [])
    .filter((d) => d.round === approval.round && d.decision === 'approve').map((d) => d.step));
  return (
    <ol class="steps">
      {(approval.steps || []).map((s) => {
        const state = approval.current_step === s ? 'current' : approvedInRound.has(s) ? 'done' : 'waiting';
        return (
          <li key={s} class={`step step-${state}`}>
            <span class="step-name">{stepLabel(s)}</span>
            <span class="step-state">{t(`approval.step.${state}`)}</span>
          </li>
        );
      })}
    </ol>
  );
}

function History({ decisions }) {
  if (!decisions || decisions.length === 0) return <p class="muted">{t('approval.noDecisions')}</p>;
  return (
    <div class="table-wrap">
      <table class="table table-cards">
        <caption class="visually-hidden">{t('approval.history')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('approval.col.at')}</th>
            <th scope="col">{t('approval.col.round')}</th>
            <th scope="col">{t('approval.col.step')}</th>
            <th scope="col">{t('approval.col.decision')}</th>
            <th scope="col">{t('approval.col.by')}</th>
            <th scope="col">{t('approval.col.comment')}</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d, i) => (
            <tr key={i}>
              <td data-label={t('approval.col.at')}>{instant(d.at)}</td>
              <td data-label={t('approval.col.round')}>{d.round}</td>
              <td data-label={t('approval.col.step')}>{stepLabel(d.step)}</td>
              <td data-label={t('approval.col.decision')}><Status value={d.decision} /></td>
              <td data-label={t('approval.col.by')} class="wide">
                {userLabel(d.decider_id)}
                {d.on_behalf_of && <span class="muted"> {t('approval.onBehalfOf', { name: userLabel(d.on_behalf_of) })}</span>}
              </td>
              <td data-label={t('approval.col.comment')} class="prewrap wide">{d.comment || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DecisionForm({ approval, behalf, selfEligible, onDecided }) {
  const [decision, setDecision] = useState('approve');
  const [comment, setComment] = useState('');
  // Someone in the inbox only through a delegation decides for the delegator; "myself" would be refused.
  const [onBehalfOf, setOnBehalfOf] = useState(!selfEligible && behalf.length > 0 ? behalf[0].delegator_id : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { decision, comment };
      if (onBehalfOf) body.on_behalf_of = onBehalfOf;
      const updated = await post(`/api/v1/approvals/${seg(approval.id)}/decisions`, body);
      onDecided(updated, decision);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form class="form decide" onSubmit={submit} noValidate data-testid="decision-form">
      <ErrorBox error={error} />
      <fieldset class="choices">
        <legend>{t('decide.legend')}</legend>
        {DECISIONS.map((d) => (
          <div class="choice" key={d}>
            <input type="radio" id={`decision-${d}`} name="decision" value={d} checked={decision === d}
              onChange={() => setDecision(d)} aria-describedby={`decision-${d}-hint`} />
            <label for={`decision-${d}`}>{decisionLabel(d)}</label>
            <p id={`decision-${d}-hint`} class="hint">{t(`decide.hint.${d}`)}</p>
          </div>
        ))}
      </fieldset>
      {behalf.length > 0 && (
        <div class="field">
          <label for="on-behalf-of">{t('decide.actingFor')}</label>
          <select id="on-behalf-of" value={onBehalfOf} onChange={(e) => setOnBehalfOf(e.currentTarget.value)}>
            {selfEligible && <option value="">{t('decide.myself')}</option>}
            {behalf.map((d) => (
              <option key={d.id} value={d.delegator_id}>{t('decide.forDelegator', { name: userLabel(d.delegator_id) })}</option>
            ))}
          </select>
        </div>
      )}
      <div class="field">
        <label for="decision-comment">{t('decide.comment')}</label>
        <textarea id="decision-comment" rows={3} maxLength={2000} value={comment}
          onInput={(e) => setComment(e.currentTarget.value)} aria-describedby="decision-comment-hint" />
        <p id="decision-comment-hint" class="hint">{t('decide.commentHint')}</p>
      </div>
      <button type="submit" class={`btn ${decision === 'approve' ? 'btn-primary' : decision === 'reject' ? 'btn-danger' : 'btn-secondary'}`}
        disabled={busy} aria-busy={busy ? 'true' : undefined}>
        {t(`decide.submit.${decision}`)}
      </button>
    </form>
  );
}

/** One approval: its fields, its steps and decisions, the document it decides on, and the decision form. */
export default function ApprovalDetail({ id }) {
  const { user } = useSession();
  const [done, setDone] = useState(/** @type {null|string} */ (null));
  const approvalLoad = useLoad((signal) => get(`/api/v1/approvals/${seg(id)}`, { signal }), [id]);
  // What awaits me and the delegations I hold decide whether the form is offered at all.
  const context = useLoad(async (signal) => {
    const [inbox, delegations, chains] = await Promise.all([
      get('/api/v1/approvals', { signal }),
      get('/api/v1/delegations', { signal }).catch(() => ({ items: [] })),
      get('/api/v1/approval-chains', { signal }).catch(() => ({ items: [] })),
    ]);
    return { inbox: (inbox && inbox.items) || [], delegations: (delegations && delegations.items) || [], chains: (chains && chains.items) || [] };
  }, [id]);

  const a = approvalLoad.data;
  const title = a ? t('approval.title', { item: itemLabel(a.item_type), id: a.item_id }) : t('approval.titleLoading');

  let decide = null;
  if (a && user) {
    const awaiting = context.data && context.data.inbox.some((x) => x.id === a.id);
    if (done) {
      decide = (
        <Notice kind="ok">
          <p>{t(`decide.done.${done}`)}</p>
          <p><Link href="/approvals">{t('approval.back')}</Link></p>
        </Notice>
      );
    } else if (a.submitter_id === user.id) decide = <Notice>{t('decide.reason.own')}</Notice>;
    else if (a.status !== 'pending') decide = <Notice>{t('decide.reason.closed', { status: t(`status.${a.status}`) })}</Notice>;
    else if (context.loading && !context.data) decide = <Loading />;
    else if (context.error) decide = <ErrorBox error={context.error} onRetry={context.reload} />;
    else if (!awaiting) decide = <Notice>{t('decide.reason.notYours', { step: stepLabel(a.current_step) })}</Notice>;
    else {
      decide = (
        <DecisionForm approval={a} behalf={delegationsFor(context.data.delegations, user.id, a.chain)}
          selfEligible={mayTakeStep(user, context.data.chains, a)}
          onDecided={(_updated, d) => { setDone(d); approvalLoad.reload(); }} />
      );
    }
  }

  return (
    <article aria-labelledby="approval-title">
      <p class="crumbs"><Link href="/approvals">{t('approval.back')}</Link></p>
      <PageTitle id="approval-title" text={title} />
      {approvalLoad.loading && !a && <Loading />}
      <ErrorBox error={approvalLoad.error} onRetry={approvalLoad.reload} />
      {a && (
        <div class="detail-grid">
          <section class="panel area-summary" aria-labelledby="approval-summary">
            <h2 id="approval-summary">{t('approval.summary')}</h2>
            <Facts items={[
              [t('approval.status'), <Status value={a.status} />],
              [t('approval.chain'), chainLabel(a.chain)],
              [t('approval.currentStep'), a.current_step ? stepLabel(a.current_step) : null],
              [t('approval.amount'), money(a.amount)],
              [t('approval.submitter'), userLabel(a.submitter_id)],
              [t('approval.sector'), a.sector_id],
              [t('approval.roundLabel'), a.round],
              [t('approval.created'), instant(a.created_at)],
              [t('approval.updated'), instant(a.updated_at)],
              [t('approval.required'), a.required && a.required.length ? a.required.map(userLabel).join(', ') : null],
            ]} />
            <h3>{t('approval.steps')}</h3>
            <Steps approval={a} />
          </section>
          <section class="panel area-subject" aria-labelledby="subject-title">
            <h2 id="subject-title">{t('subject.title', { item: itemLabel(a.item_type) })}</h2>
            <Subject key={`${a.status}:${a.updated_at}`} approval={a} user={user} />
          </section>
          <section class="panel area-decide" aria-labelledby="decide-title">
            <h2 id="decide-title">{t('decide.title')}</h2>
            {decide}
          </section>
          <section class="panel area-history" aria-labelledby="history-title">
            <h2 id="history-title">{t('approval.history')}</h2>
            <History decisions={a.decisions} />
          </section>
        </div>
      )}
    </article>
  );
}

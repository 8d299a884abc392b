import { t } from '../i18n.js';
import { get } from '../api.js';
import { money, instant } from '../format.js';
import { userLabel } from '../directory.js';
import { itemLabel, chainLabel, stepLabel } from '../labels.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, PageTitle, useLoad } from '../components.jsx';
import { useSession } from '../session.js';
import { mayTakeStep, delegationsFor } from '../delegation.js';

/** What awaits the signed-in user's decision, directly or as a delegate (GET /api/v1/approvals). */
export default function Approvals() {
  const { user } = useSession();
  const { data, error, loading, reload } = useLoad((signal) => get('/api/v1/approvals', { signal }), []);
  // Which rows are here only through a delegation: said under the step, with whom the user acts for.
  const context = useLoad(async (signal) => {
    const [chains, delegations] = await Promise.all([
      get('/api/v1/approval-chains', { signal }).catch(() => ({ items: [] })),
      get('/api/v1/delegations', { signal }).catch(() => ({ items: [] })),
    ]);
    return { chains: (chains && chains.items) || [], delegations: (delegations && delegations.items) || [] };
  }, []);
  const items = (data && data.items) || [];
  const actingFor = (a) => {
    if (!context.data || !user || mayTakeStep(user, context.data.chains, a)) return null;
    const ds = delegationsFor(context.data.delegations, user.id, a.chain);
    return ds.length ? ds.map((d) => userLabel(d.delegator_id)).join(', ') : null;
  };
  return (
    <section aria-labelledby="approvals-title">
      <div class="page-head">
        <PageTitle id="approvals-title" text={t('approvals.title')} />
        <button type="button" class="btn" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      <p class="lead">{t('approvals.lead')}</p>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('approvals.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="approvals-table">
            <caption>{t('approvals.caption', { count: items.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('approvals.col.item')}</th>
                <th scope="col">{t('approvals.col.chain')}</th>
                <th scope="col">{t('approvals.col.step')}</th>
                <th scope="col" class="num">{t('approvals.col.amount')}</th>
                <th scope="col">{t('approvals.col.submitter')}</th>
                <th scope="col">{t('approvals.col.submitted')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id}>
                  <th scope="row" data-label={t('approvals.col.item')}>
                    <Link href={`/approvals/${encodeURIComponent(a.id)}`}>
                      {t('approvals.itemRef', { item: itemLabel(a.item_type), id: a.item_id })}
                    </Link>
                  </th>
                  <td data-label={t('approvals.col.chain')}>{chainLabel(a.chain)}</td>
                  <td data-label={t('approvals.col.step')}>
                    {stepLabel(a.current_step)}
                    {a.round > 1 && <span class="muted"> · {t('approval.round', { round: a.round })}</span>}
                    {actingFor(a) && <div class="muted">{t('approvals.asDelegate', { name: actingFor(a) })}</div>}
                  </td>
                  <td data-label={t('approvals.col.amount')} class="num">{money(a.amount)}</td>
                  <td data-label={t('approvals.col.submitter')}>{userLabel(a.submitter_id)}</td>
                  <td data-label={t('approvals.col.submitted')}>{instant(a.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

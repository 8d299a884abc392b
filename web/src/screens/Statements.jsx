// Relationship-fee statements within the user's reach: a rep's own, a clerk's or sector head's sector, finance
// and auditors all — the API decides which.
import { t } from '../i18n.js';
import { get } from '../api.js';
import { money, month } from '../format.js';
import { userLabel } from '../directory.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, PageTitle, Status, useLoad } from '../components.jsx';

export default function Statements() {
  const { data, error, loading, reload } = useLoad((signal) => get('/api/v1/relationship-spending/statements?sort=period&limit=200', { signal }), []);
  const items = ((data && data.items) || []).slice().sort((a, b) => String(b.period).localeCompare(String(a.period)));
  return (
    <section aria-labelledby="statements-title">
      <div class="page-head">
        <PageTitle id="statements-title" text={t('statements.title')} />
        <button type="button" class="btn" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      <p class="lead">{t('statements.lead')}</p>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('statements.none')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="statements-table">
            <caption class="visually-hidden">{t('statements.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('statement.period')}</th>
                <th scope="col">{t('statement.rep')}</th>
                <th scope="col">{t('statement.sector')}</th>
                <th scope="col">{t('statement.status')}</th>
                <th scope="col">{t('statements.col.valid')}</th>
                <th scope="col" class="num">{t('statement.netPayable')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <th scope="row" data-label={t('statement.period')}>
                    <Link href={`/statements/${encodeURIComponent(s.id)}`}>{month(s.period)}</Link>
                  </th>
                  <td data-label={t('statement.rep')}>{userLabel(s.rep_id)}</td>
                  <td data-label={t('statement.sector')}>{s.sector_id}</td>
                  <td data-label={t('statement.status')}><Status value={s.status} /></td>
                  <td data-label={t('statements.col.valid')}>{s.valid ? t('common.yes') : t('common.no')}</td>
                  <td data-label={t('statement.netPayable')} class="num">{money(s.net_payable)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

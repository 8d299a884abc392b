// Relationship-fee statements within the user's reach: a rep's own, a clerk's or sector head's sector, finance
// and auditors all — the API decides which. Filtered by month and state on the server, a page at a time.
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { get } from '../api.js';
import { money, month } from '../format.js';
import { userLabel } from '../directory.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, PageTitle, Status, useLoad } from '../components.jsx';

const STATES = ['draft', 'submitted', 'returned', 'signed', 'rejected'];
const PAGE = 100;

export default function Statements() {
  const [period, setPeriod] = useState('');
  const [status, setStatus] = useState('');
  const [more, setMore] = useState({ items: [], cursor: null, busy: false, error: null });
  const query = (cursor) => {
    const q = new URLSearchParams({ sort: 'period', limit: String(PAGE) });
    if (/^\d{4}-\d{2}$/.test(period)) q.set('period', period);
    if (status) q.set('status', status);
    if (cursor) q.set('cursor', cursor);
    return `/api/v1/relationship-spending/statements?${q}`;
  };
  const { data, error, loading, reload } = useLoad((signal) => {
    setMore({ items: [], cursor: null, busy: false, error: null });
    return get(query(null), { signal });
  }, [period, status]);
  const next = more.cursor !== null ? more.cursor : data && data.next_cursor;
  const loadMore = async () => {
    setMore((m) => ({ ...m, busy: true, error: null }));
    try {
      const page = await get(query(next));
      setMore((m) => ({ items: [...m.items, ...((page && page.items) || [])], cursor: (page && page.next_cursor) || '', busy: false, error: null }));
    } catch (err) {
      setMore((m) => ({ ...m, busy: false, error: err }));
    }
  };
  const items = [...((data && data.items) || []), ...more.items];
  return (
    <section aria-labelledby="statements-title">
      <div class="page-head">
        <PageTitle id="statements-title" text={t('statements.title')} />
        <button type="button" class="btn" onClick={reload} disabled={loading}>{t('common.refresh')}</button>
      </div>
      <p class="lead">{t('statements.lead')}</p>
      <div class="inline-form" role="search" aria-label={t('statements.filters')}>
        <div class="field">
          <label for="statements-period">{t('statement.period')}</label>
          <input id="statements-period" type="month" value={period} onChange={(e) => setPeriod(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="statements-status">{t('statement.status')}</label>
          <select id="statements-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t('statements.anyStatus')}</option>
            {STATES.map((s) => <option key={s} value={s}>{t(`status.${s}`)}</option>)}
          </select>
        </div>
      </div>
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
      <ErrorBox error={more.error} />
      {next && <button type="button" class="btn" onClick={loadMore} disabled={more.busy}>{t('statements.more')}</button>}
    </section>
  );
}

// One contract: its figures, lines, split credit and the collections received against it (回款), reversals
// included. 404 means it does not exist or is not within the user's reach.
import { useEffect, useState } from 'preact/hooks';
import { t, getLocale } from '../i18n.js';
import { get, seg } from '../api.js';
import { money, date, instant, count } from '../format.js';
import { userLabel } from '../directory.js';
import { may } from '../permissions.js';
import { Link } from '../router.js';
import { ErrorBox, Facts, Loading, PageTitle, Status, useLoad } from '../components.jsx';
import { useSession } from '../session.js';
import { percentText } from '../sales/model.js';
import { Party } from '../sales/Party.jsx';
import '../sales/sales.css';

/** A product's name from master data, or its id. */
function Product({ id }) {
  const { user } = useSession();
  const [label, setLabel] = useState(null);
  useEffect(() => {
    let live = true;
    if (id && may(user, 'masterdata.products.read')) {
      get(`/api/v1/masterdata/products/${seg(id)}`).then((p) => {
        const r = p && p.fields && typeof p.fields === 'object' ? { ...p, ...p.fields } : p;
        if (live && r && r.name) setLabel(r.code && r.code !== r.name ? `${r.name} (${r.code})` : r.name);
      }, () => {});
    }
    return () => { live = false; };
  }, [id]);
  return <>{label || id || '—'}</>;
}

export default function Contract({ id }) {
  const contract = useLoad((signal) => get(`/api/v1/contracts/${seg(id)}`, { signal }), [id]);
  const collections = useLoad((signal) => get(`/api/v1/contracts/${seg(id)}/collections`, { signal }), [id]);
  const c = contract.data;
  const cols = (collections.data && collections.data.items) || [];
  const title = c ? t('contract.title', { number: c.number }) : t('contract.titleLoading');
  return (
    <section aria-labelledby="contract-title">
      <p class="crumbs"><Link href="/sales/contracts">{t('contract.back')}</Link></p>
      <PageTitle id="contract-title" text={title} />
      {contract.loading && !c && <Loading />}
      <ErrorBox error={contract.error} context="contract" onRetry={contract.error && contract.error.status !== 404 ? contract.reload : undefined} />
      {c && (
        <>
          <div class="panel" aria-labelledby="contract-summary">
            <h2 id="contract-summary">{t('contract.summary')}</h2>
            <Facts items={[
              [t('contract.customer'), <Party id={c.party_id} />],
              [t('contract.status'), <Status value={`contract_${c.status}`} />],
              [t('contract.total'), money(c.total)],
              [t('contract.collected'), money(c.collected)],
              [t('contract.rate'), percentText(c.collection_rate, getLocale())],
              [t('contract.signedOn'), c.signed_on ? date(c.signed_on) : null],
              [t('contract.startOn'), c.start_on ? date(c.start_on) : null],
              [t('contract.endOn'), c.end_on ? date(c.end_on) : null],
              [t('contract.owner'), userLabel(c.owner_id)],
              [t('contract.updated'), instant(c.updated_at)],
            ]} />
          </div>
          <div class="panel">
            <h2 id="contract-lines">{t('contract.lines')}</h2>
            <div class="table-wrap">
              <table class="table table-cards" aria-labelledby="contract-lines">
                <thead>
                  <tr>
                    <th scope="col">{t('contract.col.no')}</th>
                    <th scope="col">{t('contract.col.product')}</th>
                    <th scope="col" class="num">{t('contract.col.quantity')}</th>
                    <th scope="col" class="num">{t('contract.col.unitPrice')}</th>
                    <th scope="col" class="num">{t('contract.col.amount')}</th>
                  </tr>
                </thead>
                <tbody>
                  {(c.lines || []).map((l) => (
                    <tr key={l.line_no}>
                      <th scope="row" data-label={t('contract.col.no')}>{l.line_no}</th>
                      <td data-label={t('contract.col.product')}><Product id={l.product_id} /></td>
                      <td class="num" data-label={t('contract.col.quantity')}>{count(l.quantity)}</td>
                      <td class="num" data-label={t('contract.col.unitPrice')}>{money(l.unit_price)}</td>
                      <td class="num" data-label={t('contract.col.amount')}>{money(l.amount)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row" colSpan={4} data-label="">{t('contract.total')}</th>
                    <td class="num" data-label={t('contract.total')}>{money(c.total)}</td>
                  </tr>
                </tfoot>
              </table>
            </div>
            {(c.splits || []).length > 0 && (
              <>
                <h3>{t('contract.splits')}</h3>
                <ul class="plain-list">
                  {c.splits.map((s) => <li key={s.user_id}>{t('contract.split', { name: userLabel(s.user_id), percent: s.percent })}</li>)}
                </ul>
              </>
            )}
          </div>
          <div class="panel" data-testid="collections">
            <h2 id="contract-collections">{t('contract.collections')}</h2>
            {collections.loading && !collections.data && <Loading />}
            <ErrorBox error={collections.error} onRetry={collections.reload} />
            {collections.data && cols.length === 0 && <p class="empty">{t('contract.noCollections')}</p>}
            {cols.length > 0 && (
              <div class="table-wrap">
                <table class="table table-cards" aria-labelledby="contract-collections">
                  <thead>
                    <tr>
                      <th scope="col">{t('contract.col.receivedOn')}</th>
                      <th scope="col" class="num">{t('contract.col.amount')}</th>
                      <th scope="col">{t('contract.col.reference')}</th>
                      <th scope="col">{t('contract.col.source')}</th>
                      <th scope="col">{t('contract.col.reversal')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {cols.map((k) => (
                      <tr key={k.id} class={k.reversal ? 'row-missing' : undefined}>
                        <th scope="row" data-label={t('contract.col.receivedOn')}>{date(k.received_on)}</th>
                        <td class="num" data-label={t('contract.col.amount')}>{money(k.amount)}</td>
                        <td data-label={t('contract.col.reference')}>{k.reference || '—'}</td>
                        <td data-label={t('contract.col.source')}>{t(k.source === 'erp' ? 'contract.source.erp' : 'contract.source.manual')}</td>
                        <td data-label={t('contract.col.reversal')}>
                          {k.reversal ? t('contract.reversed', { date: date(k.reversal.reversed_on), reason: k.reversal.reason || '—' }) : '—'}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row" data-label="">{t('contract.collected')}</th>
                      <td class="num" data-label={t('contract.collected')}>{money(collections.data.collected)}</td>
                      <td class="wide" colSpan={3} data-label={t('contract.rate')}>{percentText(collections.data.collection_rate, getLocale())}</td>
                    </tr>
                  </tfoot>
                </table>
              </div>
            )}
          </div>
        </>
      )}
    </section>
  );
}

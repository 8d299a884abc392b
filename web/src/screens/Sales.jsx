// Sales: the pipeline as a board (drag a card, or use its "move to" control), stale records, the forecast and
// quota attainment as charts, and contracts. Each view lists only what the API answers within the user's reach.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t, getLocale } from '../i18n.js';
import { get, request, seg } from '../api.js';
import { money, date, count } from '../format.js';
import { formatMoney } from '../money.js';
import { userLabel } from '../directory.js';
import { may } from '../permissions.js';
import { describeError } from '../errors.js';
import { Link } from '../router.js';
import { ErrorBox, Loading, PageTitle, Status, useLoad } from '../components.jsx';
import { useSession } from '../session.js';
import {
  boardSectors, allowedMoves, orderedStages, stageLabel, forecastCategoryLabel, percentText, withCard, defaultWindow, defaultPeriod,
} from '../sales/model.js';
import { BarChart } from '../sales/BarChart.jsx';
import { Party } from '../sales/Party.jsx';
import '../sales/sales.css';

const VIEWS = [
  { id: 'board', href: '/sales', key: 'sales.view.board' },
  { id: 'stale', href: '/sales/stale', key: 'sales.view.stale' },
  { id: 'forecast', href: '/sales/forecast', key: 'sales.view.forecast' },
  { id: 'quotas', href: '/sales/quotas', key: 'sales.view.quotas' },
  { id: 'contracts', href: '/sales/contracts', key: 'sales.view.contracts' },
];

/** Every page of a cursor-paged list (at most `pages` pages). */
async function allPages(path, signal, pages = 20) {
  const items = [];
  let cursor = '';
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const data = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal });
    items.push(...((data && data.items) || []));
    if (!data || !data.next_cursor) break;
    cursor = String(data.next_cursor);
  }
  return items;
}

/** The sectors the user may list (names for ids); empty when they may not. */
function useSectors(user) {
  return useLoad((signal) => (may(user, 'annex.sectors.read') ? get('/api/v1/sectors', { signal }).then((d) => (d && d.items) || [], () => []) : Promise.resolve([])), [user && user.id]);
}
const sectorName = (sectors, id) => (sectors || []).find((s) => s.id === id)?.name || id;

/** Money in a chart's axis: the tick's value as whole minor units, through the exact formatter. */
function tickMoney(currency) {
  return (v) => formatMoney({ amount: BigInt(Math.round(Number(v))), currency }, { locale: getLocale() });
}

export default function Sales({ view = 'board', contractId }) {
  const { user } = useSession();
  const current = VIEWS.find((v) => v.id === view) || VIEWS[0];
  return (
    <section aria-labelledby="sales-title">
      <div class="page-head">
        <PageTitle id="sales-title" text={`${t('sales.title')} · ${t(current.key)}`} />
      </div>
      <nav class="subnav" aria-label={t('sales.views')}>
        <ul>
          {VIEWS.map((v) => (
            <li key={v.id}><Link href={v.href} aria-current={v.id === current.id ? 'page' : undefined}>{t(v.key)}</Link></li>
          ))}
        </ul>
      </nav>
      {current.id === 'board' && <Board user={user} />}
      {current.id === 'stale' && <Stale user={user} />}
      {current.id === 'forecast' && <Forecast user={user} />}
      {current.id === 'quotas' && <Quotas user={user} />}
      {current.id === 'contracts' && <Contracts />}
    </section>
  );
}

// ---- board ---------------------------------------------------------------------------------------------

function Board({ user }) {
  const sectors = useSectors(user);
  const choices = useMemo(() => boardSectors(user, sectors.data || []), [user, sectors.data]);
  const [sector, setSector] = useState('');
  const chosen = sector || choices[0] || '';
  const stages = useLoad((signal) => (chosen ? get(`/api/v1/pipeline/stages?sector_id=${seg(chosen)}`, { signal }) : Promise.resolve(null)), [chosen]);
  const listed = useLoad((signal) => (chosen ? allPages(`/api/v1/pipeline/opportunities?sector_id=${seg(chosen)}`, signal) : Promise.resolve([])), [chosen]);
  const [opps, setOpps] = useState([]);
  const [busy, setBusy] = useState(null);
  const [refusal, setRefusal] = useState(null);
  const [said, setSaid] = useState('');
  const [lostFor, setLostFor] = useState(null);
  const dragging = useRef(null); // the card being dragged (a ref: dragover handlers must see it at once)
  const [over, setOver] = useState(null);
  const [dragFrom, setDragFrom] = useState(null); // the dragged card's stage: the columns it may go to are marked
  const refusalRef = useRef(null);
  const [focusId, setFocusId] = useState(null); // a card that moved: the focus follows it to its new column

  useEffect(() => { setOpps(listed.data || []); }, [listed.data]);
  useEffect(() => { if (refusal && refusalRef.current) refusalRef.current.focus(); }, [refusal]);
  useEffect(() => {
    if (!focusId) return;
    const el = document.querySelector(`[data-opp="${CSS.escape(focusId)}"]`);
    if (el) el.focus();
    setFocusId(null);
  }, [focusId, opps]);

  const stageList = stages.data ? orderedStages(stages.data.stages || []) : [];
  const writable = may(user, 'pipeline.opportunity.write');

  const move = async (o, to, reason) => {
    if (!o || o.stage === to) return;
    const from = o.stage;
    setRefusal(null);
    setSaid('');
    setBusy(o.id);
    setOpps((list) => withCard(list, o.id, { stage: to }));
    const body = { stage: to };
    if (reason !== undefined) body.lost_reason = reason;
    try {
      const saved = await request('PATCH', `/api/v1/pipeline/opportunities/${seg(o.id)}`, body, { headers: { 'If-Match': `"v${o.version}"` } });
      setOpps((list) => list.map((x) => (x.id === o.id ? { ...x, ...saved } : x)));
      setSaid(t('sales.moved', { name: o.name, to: stageLabel(to) }));
      if (document.activeElement === document.body || (document.activeElement && document.activeElement.closest(`[data-opp="${CSS.escape(o.id)}"], .lost-form`))) setFocusId(o.id);
    } catch (err) {
      setOpps((list) => withCard(list, o.id, { stage: from }));
      setRefusal({ err, name: o.name, from, to });
      if (err && err.status === 412) listed.reload();
    } finally {
      setBusy(null);
    }
  };
  const isLost = (name) => {
    const s = stageList.find((x) => x.name === name);
    return !!s && s.closed && !s.won;
  };
  const request_ = (o, to) => {
    if (isLost(to) && o.stage !== to) {
      setRefusal(null);
      setLostFor({ o, to });
    } else move(o, to);
  };

  const onDrop = (e, to) => {
    e.preventDefault();
    setOver(null);
    const id = (e.dataTransfer && e.dataTransfer.getData('text/plain')) || dragging.current;
    dragging.current = null;
    setDragFrom(null);
    const o = opps.find((x) => x.id === id);
    if (o) request_(o, to);
  };

  if (!choices.length && !sectors.loading) return <p class="empty">{t('sales.board.noSector')}</p>;
  return (
    <div>
      <div class="toolbar">
        {choices.length > 1 && (
          <div class="field field-inline">
            <label for="board-sector">{t('sales.sector')}</label>
            <select id="board-sector" value={chosen} onChange={(e) => setSector(e.currentTarget.value)}>
              {choices.map((id) => <option key={id} value={id}>{sectorName(sectors.data, id)}</option>)}
            </select>
          </div>
        )}
        {choices.length === 1 && <p class="muted">{t('sales.sectorIs', { sector: sectorName(sectors.data, chosen) })}</p>}
        <button type="button" class="btn" onClick={() => { stages.reload(); listed.reload(); }} disabled={listed.loading}>{t('common.refresh')}</button>
      </div>
      <p class="lead">{writable ? t('sales.board.lead') : t('sales.board.leadReadOnly')}</p>
      <p class="visually-hidden" role="status" aria-live="polite">{said}</p>
      {refusal && <Refusal refusal={refusal} innerRef={refusalRef} onClose={() => setRefusal(null)} />}
      {lostFor && (
        <LostReason
          opp={lostFor.o}
          onCancel={() => setLostFor(null)}
          onConfirm={(reason) => { const { o, to } = lostFor; setLostFor(null); move(o, to, reason); }}
        />
      )}
      <ErrorBox error={stages.error || listed.error} onRetry={() => { stages.reload(); listed.reload(); }} />
      {(stages.loading || listed.loading) && !stageList.length && <Loading />}
      {stageList.length > 0 && (
        <div class="board" data-testid="board">
          {stageList.map((s) => {
            // The latest changed first: a card just moved shows at the top of its new column.
            const cards = opps.filter((o) => o.stage === s.name).sort((a, b) => String(b.updated_at || '').localeCompare(String(a.updated_at || '')));
            return (
              <section
                key={s.name}
                class={`board-col${over === s.name ? ' board-col-over' : ''}${dragFrom && allowedMoves(stageList, dragFrom).includes(s.name) ? ' board-col-allowed' : ''}`}
                aria-labelledby={`col-${s.name}`}
                data-stage={s.name}
                onDragOver={(e) => { if (dragging.current) { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; if (over !== s.name) setOver(s.name); } }}
                onDragLeave={() => setOver((v) => (v === s.name ? null : v))}
                onDrop={(e) => onDrop(e, s.name)}
              >
                <h2 id={`col-${s.name}`} class="board-col-title">
                  {stageLabel(s.name)} <span class="muted board-count">{t('sales.board.count', { count: count(cards.length), probability: s.probability })}</span>
                </h2>
                {cards.length === 0 && <p class="board-empty">{t('sales.board.emptyStage')}</p>}
                <ul class="cards">
                  {cards.map((o) => (
                    <Card
                      key={o.id}
                      o={o}
                      me={user}
                      targets={writable ? allowedMoves(stageList, o.stage) : []}
                      busy={busy === o.id}
                      onMove={(to) => request_(o, to)}
                      onDragStart={(e) => { dragging.current = o.id; e.dataTransfer.setData('text/plain', o.id); e.dataTransfer.effectAllowed = 'move'; setDragFrom(o.stage); }}
                      onDragEnd={() => { dragging.current = null; setOver(null); setDragFrom(null); }}
                      draggable={writable}
                    />
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
    </div>
  );
}

function Card({ o, me, targets, busy, onMove, onDragStart, onDragEnd, draggable }) {
  const [to, setTo] = useState('');
  const selectId = `move-${o.id}`;
  return (
    <li
      class={`card-opp${busy ? ' card-busy' : ''}`}
      draggable={draggable && !busy}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      data-testid={`opp-${o.id}`}
      data-opp={o.id}
      tabIndex={-1}
      aria-busy={busy ? 'true' : undefined}
    >
      <h3 class="card-opp-name" id={`name-${o.id}`}>{o.name}</h3>
      <p class="card-opp-amount">{money(o.amount)}</p>
      <p class="card-opp-meta">
        {t('sales.card.closes', { date: date(o.expected_close) })}
        {' · '}
        {t('sales.card.probability', { probability: o.probability })}
      </p>
      {o.owner_id !== me?.id && <p class="card-opp-meta">{t('sales.card.owner', { name: userLabel(o.owner_id) })}</p>}
      {o.lost_reason && <p class="card-opp-meta">{t('sales.card.lostReason', { reason: o.lost_reason })}</p>}
      {targets.length > 0 && (
        <form class="move" onSubmit={(e) => { e.preventDefault(); if (to) onMove(to); }}>
          <label for={selectId} class="move-label">{t('sales.card.moveTo')}</label>
          <div class="move-row">
            <select id={selectId} value={to} onChange={(e) => setTo(e.currentTarget.value)} aria-describedby={`${selectId}-name`}>
              <option value="">{t('sales.card.chooseStage')}</option>
              {targets.map((s) => <option key={s} value={s}>{stageLabel(s)}</option>)}
            </select>
            <button type="submit" class="btn btn-small" disabled={!to || busy}>{t('sales.card.move')}</button>
          </div>
          <span id={`${selectId}-name`} class="visually-hidden">{o.name}</span>
        </form>
      )}
    </li>
  );
}

/** A move the server refused, in the user's language; the card is back where it was. */
function Refusal({ refusal, innerRef, onClose }) {
  const { err, name, from, to } = refusal;
  let message;
  if (err && err.field === 'stage' && err.status === 422) message = t('sales.refused.stage', { name, from: stageLabel(from), to: stageLabel(to) });
  else if (err && err.field === 'lost_reason') message = t('sales.refused.lostReason', { name });
  else message = describeError(err).message;
  const detail = err && err.serverMessage;
  return (
    <div class="alert alert-error" role="alert" tabIndex={-1} ref={innerRef} data-testid="move-refusal">
      <p class="alert-title">{message}</p>
      <p>{t('sales.refused.stays', { stage: stageLabel(from) })}</p>
      {detail && <p class="alert-detail">{t('error.detail', { detail })}</p>}
      <button type="button" class="btn btn-small" onClick={onClose}>{t('common.dismiss')}</button>
    </div>
  );
}

function LostReason({ opp, onCancel, onConfirm }) {
  const [reason, setReason] = useState('');
  const [tried, setTried] = useState(false);
  const ref = useRef(null);
  useEffect(() => { if (ref.current) ref.current.focus(); }, []);
  const missing = tried && !reason.trim();
  return (
    <form class="panel lost-form" onSubmit={(e) => { e.preventDefault(); setTried(true); if (reason.trim()) onConfirm(reason.trim()); }}>
      <div class="field">
        <label for="lost-reason">{t('sales.lost.label', { name: opp.name })}</label>
        <input id="lost-reason" ref={ref} value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)}
          aria-invalid={missing ? 'true' : undefined} aria-describedby={missing ? 'lost-reason-error' : 'lost-reason-hint'} />
        {missing ? <p id="lost-reason-error" class="field-error">{t('sales.refused.lostReason', { name: opp.name })}</p>
          : <p id="lost-reason-hint" class="hint">{t('sales.lost.hint')}</p>}
      </div>
      <div class="actions-row">
        <button type="submit" class="btn btn-primary">{t('sales.lost.confirm')}</button>
        <button type="button" class="btn" onClick={onCancel}>{t('common.cancel')}</button>
      </div>
    </form>
  );
}

// ---- stale ---------------------------------------------------------------------------------------------

function Stale({ user }) {
  const sectors = useSectors(user);
  const { data, error, loading, reload } = useLoad((signal) => get('/api/v1/pipeline/stale', { signal }), []);
  const items = (data && data.items) || [];
  return (
    <div>
      <p class="lead">{data ? t('sales.stale.lead', { cutoff: date(data.cutoff) }) : t('sales.stale.leadPlain')}</p>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('sales.stale.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="stale-table">
            <caption>{t('sales.stale.caption', { count: count(items.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('sales.stale.col.name')}</th>
                <th scope="col">{t('sales.stale.col.type')}</th>
                <th scope="col">{t('sales.stale.col.sector')}</th>
                <th scope="col">{t('sales.stale.col.owner')}</th>
                <th scope="col">{t('sales.stale.col.quietSince')}</th>
                <th scope="col">{t('sales.stale.col.lastActivity')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={`${s.type}-${s.id}`}>
                  <th scope="row" data-label={t('sales.stale.col.name')}>{s.name}</th>
                  <td data-label={t('sales.stale.col.type')}>{s.type === 'pipeline.lead' ? t('sales.stale.lead1') : t('sales.stale.opportunity1')}</td>
                  <td data-label={t('sales.stale.col.sector')}>{sectorName(sectors.data, s.sector_id)}</td>
                  <td data-label={t('sales.stale.col.owner')}>{userLabel(s.owner_id)}</td>
                  <td data-label={t('sales.stale.col.quietSince')}>{date(s.quiet_since)}</td>
                  <td data-label={t('sales.stale.col.lastActivity')}>{s.last_activity_on ? date(s.last_activity_on) : t('sales.stale.never')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// ---- forecast ------------------------------------------------------------------------------------------

const GROUPS = ['stage', 'category', 'owner', 'sector'];

/** Rows of a grouped answer split by currency: amounts in different currencies are never added. */
function byCurrency(groups) {
  const out = new Map();
  for (const g of groups || []) {
    const c = g.currency || (g.total && g.total.currency) || '';
    if (!out.has(c)) out.set(c, []);
    out.get(c).push(g);
  }
  return [...out.entries()];
}

function Forecast({ user }) {
  const sectors = useSectors(user);
  const initial = defaultWindow();
  const [form, setForm] = useState({ from: initial.from, to: initial.to, group_by: 'stage' });
  const [query, setQuery] = useState(form);
  const { data, error, loading, reload } = useLoad(
    (signal) => get(`/api/v1/pipeline/forecast?from=${seg(query.from)}&to=${seg(query.to)}&group_by=${seg(query.group_by)}`, { signal }),
    [query.from, query.to, query.group_by],
  );
  const label = (g) => {
    if (query.group_by === 'stage') return stageLabel(g);
    if (query.group_by === 'category') return forecastCategoryLabel(g);
    if (query.group_by === 'owner') return userLabel(g);
    return sectorName(sectors.data, g);
  };
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <div>
      <p class="lead">{t('sales.forecast.lead')}</p>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); setQuery({ ...form }); }}>
        <div class="field"><label for="fc-from">{t('sales.forecast.from')}</label><input id="fc-from" type="date" value={form.from} onInput={set('from')} required /></div>
        <div class="field"><label for="fc-to">{t('sales.forecast.to')}</label><input id="fc-to" type="date" value={form.to} onInput={set('to')} required /></div>
        <div class="field">
          <label for="fc-group">{t('sales.forecast.groupBy')}</label>
          <select id="fc-group" value={form.group_by} onChange={set('group_by')}>
            {GROUPS.map((g) => <option key={g} value={g}>{t(`sales.groupBy.${g}`)}</option>)}
          </select>
        </div>
        <div class="filters-go"><button type="submit" class="btn btn-primary">{t('sales.show')}</button></div>
      </form>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && (!data.groups || data.groups.length === 0) && <p class="empty">{t('sales.forecast.empty')}</p>}
      {data && byCurrency(data.groups).map(([currency, rows]) => (
        <div class="panel" key={currency} data-testid={`forecast-${currency}`}>
          <h2>{t('sales.forecast.inCurrency', { currency })}</h2>
          <BarChart
            id={`forecast-${currency}`}
            title={t('sales.forecast.chartTitle', { from: date(query.from), to: date(query.to), currency })}
            labels={rows.map((g) => label(g.group))}
            series={[
              { label: t('sales.forecast.total'), values: rows.map((g) => g.total.amount), texts: rows.map((g) => money(g.total)) },
              { label: t('sales.forecast.weighted'), values: rows.map((g) => g.weighted.amount), texts: rows.map((g) => money(g.weighted)) },
            ]}
            tick={tickMoney(currency)}
          />
          <div class="table-wrap">
            <table class="table table-cards" data-testid={`forecast-table-${currency}`}>
              <caption>{t('sales.forecast.caption', { currency })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t(`sales.groupBy.${query.group_by}`)}</th>
                  <th scope="col" class="num">{t('sales.forecast.count')}</th>
                  <th scope="col" class="num">{t('sales.forecast.total')}</th>
                  <th scope="col" class="num">{t('sales.forecast.weighted')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((g) => (
                  <tr key={g.group}>
                    <th scope="row" data-label={t(`sales.groupBy.${query.group_by}`)}>{label(g.group)}</th>
                    <td class="num" data-label={t('sales.forecast.count')}>{count(g.count)}</td>
                    <td class="num" data-label={t('sales.forecast.total')}>{money(g.total)}</td>
                    <td class="num" data-label={t('sales.forecast.weighted')}>{money(g.weighted)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </div>
  );
}

// ---- quotas --------------------------------------------------------------------------------------------

function Quotas({ user }) {
  const sectors = useSectors(user);
  const plans = useLoad((signal) => get('/api/v1/quotas/plans', { signal }).then((d) => (d && d.items) || []), []);
  const [form, setForm] = useState({ plan_id: '', period: '', group_by: 'rep' });
  const [query, setQuery] = useState(null);
  const list = plans.data || [];
  const plan = list.find((p) => p.id === form.plan_id) || list[0];
  useEffect(() => {
    if (plan && !form.plan_id) {
      const first = { plan_id: plan.id, period: defaultPeriod(plan.period_type), group_by: 'rep' };
      setForm(first);
      setQuery(first);
    }
  }, [plan && plan.id]);
  const result = useLoad(
    (signal) => (query ? get(`/api/v1/quotas/attainment?plan_id=${seg(query.plan_id)}&period=${seg(query.period)}&group_by=${seg(query.group_by)}`, { signal }) : Promise.resolve(null)),
    [query && query.plan_id, query && query.period, query && query.group_by],
  );
  const set = (k) => (e) => {
    const v = e.currentTarget.value;
    if (k === 'plan_id') {
      const p = list.find((x) => x.id === v);
      setForm({ ...form, plan_id: v, period: p ? defaultPeriod(p.period_type) : form.period });
    } else setForm({ ...form, [k]: v });
  };
  const name = (it) => (it.assignee_type === 'sector' ? sectorName(sectors.data, it.assignee_id) : userLabel(it.assignee_id));
  const items = (result.data && result.data.items) || [];
  const currency = result.data && result.data.plan ? result.data.plan.currency : '';
  const periodHint = plan ? t(`sales.quotas.periodHint.${plan.period_type}`) : '';
  return (
    <div>
      <p class="lead">{t('sales.quotas.lead')}</p>
      {plans.loading && !plans.data && <Loading />}
      <ErrorBox error={plans.error} onRetry={plans.reload} />
      {plans.data && list.length === 0 && <p class="empty">{t('sales.quotas.noPlans')}</p>}
      {list.length > 0 && (
        <form class="filters" onSubmit={(e) => { e.preventDefault(); setQuery({ ...form }); }}>
          <div class="field">
            <label for="q-plan">{t('sales.quotas.plan')}</label>
            <select id="q-plan" value={form.plan_id} onChange={set('plan_id')}>
              {list.map((p) => (
                <option key={p.id} value={p.id}>{t('sales.quotas.planOption', { name: p.name, measure: t(`sales.quotas.measure.${p.measure}`), currency: p.currency })}</option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="q-period">{t('sales.quotas.period')}</label>
            <input id="q-period" value={form.period} onInput={set('period')} required aria-describedby="q-period-hint" />
            <p id="q-period-hint" class="hint">{periodHint}</p>
          </div>
          <div class="field">
            <label for="q-group">{t('sales.forecast.groupBy')}</label>
            <select id="q-group" value={form.group_by} onChange={set('group_by')}>
              <option value="rep">{t('sales.groupBy.rep')}</option>
              <option value="sector">{t('sales.groupBy.sector')}</option>
            </select>
          </div>
          <div class="filters-go"><button type="submit" class="btn btn-primary">{t('sales.show')}</button></div>
        </form>
      )}
      {result.loading && query && !result.data && <Loading />}
      <ErrorBox error={result.error} onRetry={result.reload} />
      {result.data && items.length === 0 && <p class="empty">{t('sales.quotas.empty')}</p>}
      {items.length > 0 && (
        <div class="panel" data-testid="attainment">
          <h2>{t('sales.quotas.heading', { plan: result.data.plan.name, period: result.data.period })}</h2>
          <p class="muted">{t('sales.quotas.window', { from: date(result.data.from), to: date(result.data.to) })}</p>
          <BarChart
            id="attainment"
            title={t('sales.quotas.chartTitle', { period: result.data.period, currency })}
            labels={items.map(name)}
            series={[
              { label: t('sales.quotas.quota'), values: items.map((i) => i.quota.amount), texts: items.map((i) => money(i.quota)) },
              { label: t('sales.quotas.achieved'), values: items.map((i) => i.achieved.amount), texts: items.map((i) => `${money(i.achieved)} (${percentText(i.percent, getLocale())})`) },
            ]}
            tick={tickMoney(currency)}
          />
          <div class="table-wrap">
            <table class="table table-cards" data-testid="attainment-table">
              <caption>{t('sales.quotas.caption', { currency })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t(`sales.groupBy.${result.data.group_by}`)}</th>
                  <th scope="col" class="num">{t('sales.quotas.quota')}</th>
                  <th scope="col" class="num">{t('sales.quotas.achieved')}</th>
                  <th scope="col" class="num">{t('sales.quotas.percent')}</th>
                  <th scope="col" class="num">{t('sales.quotas.gap')}</th>
                  <th scope="col" class="num">{t('sales.quotas.open')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={`${i.assignee_id}-${i.product_group || ''}`}>
                    <th scope="row" data-label={t(`sales.groupBy.${result.data.group_by}`)}>
                      {name(i)}{i.product_group && <span class="muted"> · {i.product_group}</span>}
                    </th>
                    <td class="num" data-label={t('sales.quotas.quota')}>{money(i.quota)}</td>
                    <td class="num" data-label={t('sales.quotas.achieved')}>{money(i.achieved)}</td>
                    <td class="num" data-label={t('sales.quotas.percent')}>{percentText(i.percent, getLocale())}</td>
                    <td class="num" data-label={t('sales.quotas.gap')}>{money(i.gap)}</td>
                    <td class="num" data-label={t('sales.quotas.open')}>{money(i.open_pipeline_weighted)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}

// ---- contracts -----------------------------------------------------------------------------------------

function Contracts() {
  const { data, error, loading, reload } = useLoad((signal) => allPages('/api/v1/contracts?sort=-created_at', signal, 5), []);
  const items = data || [];
  return (
    <div>
      <p class="lead">{t('sales.contracts.lead')}</p>
      {loading && !data && <Loading />}
      <ErrorBox error={error} onRetry={reload} />
      {data && items.length === 0 && <p class="empty">{t('sales.contracts.empty')}</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table table-cards" data-testid="contracts-table">
            <caption>{t('sales.contracts.caption', { count: count(items.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('contract.number')}</th>
                <th scope="col">{t('contract.customer')}</th>
                <th scope="col">{t('contract.status')}</th>
                <th scope="col">{t('contract.signedOn')}</th>
                <th scope="col" class="num">{t('contract.total')}</th>
                <th scope="col" class="num">{t('contract.collected')}</th>
                <th scope="col" class="num">{t('contract.rate')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <th scope="row" data-label={t('contract.number')}><Link href={`/sales/contracts/${encodeURIComponent(c.id)}`}>{c.number}</Link></th>
                  <td data-label={t('contract.customer')}><Party id={c.party_id} /></td>
                  <td data-label={t('contract.status')}><Status value={`contract_${c.status}`} /></td>
                  <td data-label={t('contract.signedOn')}>{c.signed_on ? date(c.signed_on) : '—'}</td>
                  <td class="num" data-label={t('contract.total')}>{money(c.total)}</td>
                  <td class="num" data-label={t('contract.collected')}>{money(c.collected)}</td>
                  <td class="num" data-label={t('contract.rate')}>{percentText(c.collection_rate, getLocale())}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n.js';
import { describeError } from './errors.js';
import { takeTitleFocus } from './router.js';

/** The page's heading: sets the document title and takes the focus after a navigation. */
export function PageTitle({ children, text, id }) {
  const ref = useRef(null);
  useEffect(() => {
    document.title = `${text} · Annex`;
    if (takeTitleFocus() && ref.current) ref.current.focus();
  }, [text]);
  return (
    <h1 ref={ref} id={id} tabIndex={-1}>
      {children || text}
    </h1>
  );
}

export function Loading({ label }) {
  return (
    <p class="loading" role="status">
      {label || t('common.loading')}
    </p>
  );
}

/** An error from the API, translated, with the field at fault and the server's words as detail. */
export function ErrorBox({ error, context, onRetry }) {
  if (!error) return null;
  const d = describeError(error, context);
  return (
    <div class="alert alert-error" role="alert">
      <p class="alert-title">{d.message}</p>
      {d.field && <p>{t('error.field', { field: d.field })}</p>}
      {d.detail && <p class="alert-detail">{t('error.detail', { detail: d.detail })}</p>}
      {onRetry && (
        <button type="button" class="btn" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Notice({ kind = 'info', children }) {
  return (
    <div class={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

/**
 * Loads with `fn(signal)` whenever `deps` change; returns {data, error, loading, reload}.
 * @template T
 * @param {(signal: AbortSignal) => Promise<T>} fn
 * @param {unknown[]} deps
 */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    fn(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: null, loading: false }),
      (error) => !ctl.signal.aborted && setState({ data: null, error, loading: false }),
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((x) => x + 1) };
}

/** A definition list of label/value pairs, skipping empty values. */
export function Facts({ items }) {
  return (
    <dl class="facts">
      {items
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => (
          <div class="fact" key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/** A status as a labelled badge; the text is the translation of `status.<value>`. */
export function Status({ value }) {
  const key = `status.${value}`;
  const text = t(key);
  return <span class={`badge badge-${String(value).replace(/[^a-z_-]/gi, '')}`}>{text === key ? value : text}</span>;
}

// A small history router: paths are real URLs (annexd serves index.html for unknown non-/api paths).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';

let focusTitleNext = false;

/** @param {string} to @param {{replace?: boolean}} [opts] */
export function navigate(to, opts = {}) {
  if (to === location.pathname + location.search) return;
  history[opts.replace ? 'replaceState' : 'pushState'](null, '', to);
  focusTitleNext = !opts.replace;
  dispatchEvent(new PopStateEvent('popstate'));
}

/** True once after a navigation: the new page's title takes the focus, so screen readers announce it. */
export function takeTitleFocus() {
  const v = focusTitleNext;
  focusTitleNext = false;
  return v;
}

export function useLocation() {
  const [loc, setLoc] = useState(() => ({ path: location.pathname, search: location.search }));
  useEffect(() => {
    const on = () => {
      setLoc({ path: location.pathname, search: location.search });
    };
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return loc;
}

/** A link that navigates without reloading; modified clicks (new tab …) are the browser's. */
export function Link(props) {
  const { href, children, ...rest } = props;
  const onClick = (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return h('a', { href, onClick, ...rest }, children);
}

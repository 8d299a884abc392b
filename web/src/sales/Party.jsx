import { useEffect, useState } from 'preact/hooks';
import { partyLabel } from '../directory.js';

/** A customer's name from master data, once known (its id until then, or when it cannot be read). */
export function Party({ id }) {
  const [label, setLabel] = useState(null);
  useEffect(() => {
    let live = true;
    partyLabel(id).then((l) => live && setLabel(l));
    return () => { live = false; };
  }, [id]);
  return <>{label || id || '—'}</>;
}

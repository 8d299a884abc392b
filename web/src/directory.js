// Names for user ids, from GET /api/v1/users when the user may read accounts; otherwise ids are shown as they are.
import { get } from './api.js';
import { may } from './permissions.js';

let names = new Map();
let list = [];

/** @param {{id: string, login: string, display_name?: string, permissions?: string[]}} me */
export async function loadDirectory(me) {
  setPartyAccess(me);
  names = new Map([[me.id, { login: me.login, display_name: me.display_name }]]);
  list = [];
  if (!may(me, 'annex.users.read')) return;
  try {
    const data = await get('/api/v1/users?status=active');
    list = ((data && data.items) || []).filter((u) => u && u.id);
    for (const u of list) names.set(u.id, { login: u.login, display_name: u.display_name });
  } catch {
    // out of reach or refused: ids stay ids
  }
}

/** "Display Name (login)", or the id when unknown. */
export function userLabel(id) {
  if (!id) return '—';
  const u = names.get(id);
  if (!u) return String(id);
  return u.display_name && u.display_name !== u.login ? `${u.display_name} (${u.login})` : u.login || String(id);
}

/** The accounts the user may see, for choosing a delegate (empty when none may be listed). */
export function knownUsers() {
  return list;
}

let canReadParties = false;
const parties = new Map();

/** @param {{permissions?: string[]}} me */
export function setPartyAccess(me) {
  canReadParties = may(me, 'masterdata.parties.read');
  parties.clear();
}

/**
 * A customer's "Name (code)" from master data, or null when it cannot be read (then the id is shown).
 * @param {string} id
 * @returns {Promise<string|null>}
 */
export function partyLabel(id) {
  if (!canReadParties || !id) return Promise.resolve(null);
  if (!parties.has(id)) {
    parties.set(id, get(`/api/v1/masterdata/parties/${encodeURIComponent(id)}`).then(
      (p) => {
        const r = p && p.fields && typeof p.fields === 'object' ? { ...p, ...p.fields } : p;
        if (!r || !r.name) return null;
        return r.code && r.code !== r.name ? `${r.name} (${r.code})` : r.name;
      },
      () => null,
    ));
  }
  return parties.get(id);
}

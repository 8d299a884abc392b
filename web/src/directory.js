// Names for user ids, from GET /api/v1/users when the user may read accounts; otherwise ids are shown as they are.
import { get } from './api.js';
import { may } from './permissions.js';

let names = new Map();
let list = [];

/** @param {{id: string, login: string, display_name?: string, permissions?: string[]}} me */
export async function loadDirectory(me) {
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

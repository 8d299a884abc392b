// Who gets the Operations screen, and which of its parts: administrators — those who manage accounts,
// sectors or sync connections. Reading alone (every business role's `*.read`) does not make an administrator.
import { may } from './permissions.js';

export const OPS_PARTS = [
  { id: 'plugins', permission: 'annex.plugins.read' },
  { id: 'sync', permission: 'annex.sync.view' },
  { id: 'users', permission: 'annex.users.read' },
  { id: 'sectors', permission: 'annex.sectors.read' },
  { id: 'idle', permission: 'annex.users.read' },
];

/** @param {{permissions?: string[]}|null} user */
export function mayOperate(user) {
  return may(user, 'annex.users.manage') || may(user, 'annex.sectors.manage') || may(user, 'annex.sync.view');
}

/** The parts of the Operations screen this user may open (none unless they may operate at all). */
export function opsParts(user) {
  return mayOperate(user) ? OPS_PARTS.filter((p) => may(user, p.permission)) : [];
}

// What the signed-in user's permission patterns reach (as GET /api/v1/auth/me lists them). The server decides;
// the UI uses this only to leave out what the server would refuse. A pattern's `*` matches any text, dots included.

/** @param {string} pattern @param {string} permission */
export function patternMatches(pattern, permission) {
  if (pattern === '*' || pattern === permission) return true;
  if (!pattern.includes('*')) return false;
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(permission);
}

/**
 * @param {{permissions?: string[]}|null|undefined} user
 * @param {string} permission
 */
export function may(user, permission) {
  return !!user && Array.isArray(user.permissions) && user.permissions.some((p) => patternMatches(String(p), permission));
}

/**
 * The chains whose steps this user could take: a step naming one of the user's roles, or a permission the
 * user holds. Used to offer only those chains for delegation.
 * @param {{roles?: {role: string}[], permissions?: string[]}} user
 * @param {{id: string, steps: {role?: string, permission?: string}[]}[]} chains
 */
export function chainsUserDecides(user, chains) {
  const roles = new Set((user?.roles || []).map((r) => r.role));
  return chains.filter((c) => (c.steps || []).some((s) => (s.role && roles.has(s.role)) || (s.permission && may(user, s.permission))));
}

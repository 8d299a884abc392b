import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The signed-in user (GET /api/v1/auth/me: id, login, display_name, roles, permissions). */
export const Session = createContext(/** @type {{user: any}} */ ({ user: null }));
export const useSession = () => useContext(Session);

import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { post } from '../api.js';
import { ErrorBox, Notice, PageTitle } from '../components.jsx';

/** Sign-in with login and password; the server sets the session cookie and answers the CSRF token. */
export default function SignIn({ onSignedIn, notice }) {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(null);
  const [missing, setMissing] = useState(/** @type {string[]} */ ([]));
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    const gaps = [];
    if (!login.trim()) gaps.push('login');
    if (!password) gaps.push('password');
    setMissing(gaps);
    setError(null);
    if (gaps.length) {
      document.getElementById(gaps[0])?.focus();
      return;
    }
    setBusy(true);
    try {
      const res = await post('/api/v1/auth/session', { login: login.trim(), password }, { expect401: true });
      const me = { ...(res.user || {}), csrf_token: res.csrf_token };
      await onSignedIn(me);
    } catch (err) {
      setError(err);
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <section class="signin" aria-labelledby="signin-title">
      <div class="card">
        <PageTitle id="signin-title" text={t('signin.title')} />
        <p class="muted">{t('signin.lead')}</p>
        {notice === 'expired' && <Notice kind="warn">{t('signin.expired')}</Notice>}
        {notice === 'signedout' && <Notice>{t('signin.signedout')}</Notice>}
        <ErrorBox error={error} context="signin" />
        <form onSubmit={submit} noValidate class="form">
          <div class="field">
            <label for="login">{t('signin.login')}</label>
            <input id="login" name="username" autocomplete="username" autocapitalize="none" spellcheck={false}
              value={login} onInput={(e) => setLogin(e.currentTarget.value)}
              aria-invalid={missing.includes('login') ? 'true' : undefined}
              aria-describedby={missing.includes('login') ? 'login-missing' : undefined} required />
            {missing.includes('login') && <p id="login-missing" class="field-error">{t('signin.loginMissing')}</p>}
          </div>
          <div class="field">
            <label for="password">{t('signin.password')}</label>
            <input id="password" name="password" type="password" autocomplete="current-password"
              value={password} onInput={(e) => setPassword(e.currentTarget.value)}
              aria-invalid={missing.includes('password') ? 'true' : undefined}
              aria-describedby={missing.includes('password') ? 'password-missing' : undefined} required />
            {missing.includes('password') && <p id="password-missing" class="field-error">{t('signin.passwordMissing')}</p>}
          </div>
          <button type="submit" class="btn btn-primary btn-block" disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {busy ? t('signin.busy') : t('signin.submit')}
          </button>
        </form>
      </div>
    </section>
  );
}

// The console: sign in, then the pages for who signed in (staff by role, or a contractor), chosen by the URL's
// hash (#/audit, #/contractors, #/contractor/<id>, #/grant, #/queues, #/mine) so the back button and links work.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { gql, token, whenUnauthorized } from './api.js';
import { AuditPage } from './audit-page.js';
import { ContractorHome } from './contractor-home.js';
import { ContractorPage } from './contractor-page.js';
import { ContractorsPage } from './contractors-page.js';
import { GrantForm } from './grant-form.js';
import { completeOidcSignIn } from './oidc.js';
import { QueuesPage } from './queues-page.js';
import { SignIn } from './sign-in.js';
import { html, label } from './ui.js';

const VIEWER = '{ viewer { kind role subject expiresAt purposes contractor { id legalName } } }';

/** The pages each kind of user has, in menu order; the first is where they land. */
function pagesFor(viewer) {
  if (viewer.kind === 'CONTRACTOR') return [['mine', 'My grants and obligations']];
  const staff = [
    ['audit', 'Transfers and audit'],
    ['contractors', 'Contractors'],
    ['queues', 'Queues'],
  ];
  if (viewer.role === 'COMPLIANCE')
    return [
      ['contractors', 'Contractors'],
      ['grant', 'New grant'],
      ['queues', 'Queues'],
      ['audit', 'Transfers and audit'],
    ];
  return staff;
}

function Page({ route, viewer }) {
  const [name, id] = route.split('/');
  switch (name) {
    case 'audit':
      return html`<${AuditPage} />`;
    case 'contractors':
      return html`<${ContractorsPage} />`;
    case 'contractor':
      return html`<${ContractorPage} id=${decodeURIComponent(id ?? '')} viewer=${viewer} />`;
    case 'grant':
      return html`<${GrantForm} contractorId=${id ? decodeURIComponent(id) : ''} />`;
    case 'queues':
      return html`<${QueuesPage} />`;
    case 'mine':
      return html`<${ContractorHome} viewer=${viewer} />`;
    default:
      return html`<p>No such page. <a href="#/">Start again</a>.</p>`;
  }
}

const routeOf = () => location.hash.replace(/^#\/?/, '');

function App({ settings }) {
  const [viewer, setViewer] = useState(null);
  const [notice, setNotice] = useState('');
  const [route, setRoute] = useState(routeOf());
  const main = useRef(null);

  const signOut = (why = '') => {
    token.forget();
    setViewer(null);
    setNotice(why);
  };
  const signIn = async (value) => {
    token.set(value);
    try {
      setViewer((await gql(VIEWER)).viewer);
      setNotice('');
    } catch (e) {
      token.forget();
      throw e;
    }
  };

  useEffect(() => {
    whenUnauthorized((message) => signOut(`Signed out: ${message}`));
    const onHash = () => setRoute(routeOf());
    addEventListener('hashchange', onHash);
    // Back from the identity provider, or a reload of a signed-in tab.
    completeOidcSignIn(settings)
      .then((fromIdp) => fromIdp ?? token.get())
      .then((t) => t && signIn(t))
      .catch((e) => signOut(e.message));
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const pages = viewer ? pagesFor(viewer) : [];
  const current = route && pages.length ? route : pages[0]?.[0];
  useEffect(() => {
    const title = pages.find(([p]) => p === current?.split('/')[0])?.[1];
    document.title = title ? `${title} · Transfer registry` : 'Transfer registry';
    if (viewer && route) main.current?.focus();
  }, [current, viewer]);

  return html`
    <a class="skip" href="#main" onClick=${(e) => (e.preventDefault(), main.current?.focus())}>Skip to content</a>
    <header class="top">
      <span class="brand">Transfer registry</span>
      ${
        viewer &&
        html`<nav aria-label="Pages">
            <ul>
              ${pages.map(
                ([p, title]) =>
                  html`<li>
                    <a href="#/${p}" aria-current=${current?.split('/')[0] === p ? 'page' : undefined}>${title}</a>
                  </li>`,
              )}
            </ul>
          </nav>
          <div class="who">
            <span
              >${`${viewer.contractor?.legalName ?? viewer.subject} `}<span class="muted"
                >(${viewer.kind === 'STAFF' ? label(viewer.role) : 'contractor'})</span
              ></span
            >
            <button type="button" onClick=${() => signOut('You signed out; the token is forgotten.')}>Sign out</button>
          </div>`
      }
    </header>
    <main id="main" tabindex="-1" ref=${main}>
      ${
        viewer
          ? html`<${Page} route=${current} viewer=${viewer} />`
          : html`<${SignIn} settings=${settings} notice=${notice} onToken=${signIn} />`
      }
    </main>
  `;
}

const root = document.getElementById('root');
render(html`<${App} settings=${JSON.parse(root.dataset.settings || '{}')} />`, root);

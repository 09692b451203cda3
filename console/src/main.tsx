import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { setToken, tokenClaims, useToken } from './session';
import { SignIn } from './SignIn';
import { ReconciliationPage } from './pages/Reconciliation';
import { CustomerPage } from './pages/Customer';
import { SellerPage } from './pages/Seller';
import { MarketsPage } from './pages/Markets';
import { parseRoute, type Route } from './route';
import './styles.css';

const queries = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

const PAGES: Array<{ page: Route['page']; title: string }> = [
  { page: 'reconciliation', title: 'Reconciliation' },
  { page: 'customer', title: 'Customer' },
  { page: 'seller', title: 'Seller' },
  { page: 'markets', title: 'Markets' },
];

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function Console() {
  const token = useToken();
  const route = useRoute();
  if (!token) return <SignIn />;
  const who = tokenClaims(token);
  return (
    <div className="console">
      <header>
        <strong>Mandi console</strong>
        <nav>
          {PAGES.map((p) => (
            <a key={p.page} href={`#/${p.page}`} className={route.page === p.page ? 'current' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <span className="who">
          {who.sub ?? 'staff'} {who.roles ? `(${who.roles.join(', ')})` : ''}
          <button
            type="button"
            onClick={() => {
              setToken(null);
              queries.clear();
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main>
        {route.page === 'reconciliation' && <ReconciliationPage />}
        {route.page === 'customer' && <CustomerPage query={route.params} />}
        {route.page === 'seller' && <SellerPage sellerId={route.params.get('sellerId')} />}
        {route.page === 'markets' && <MarketsPage marketId={route.params.get('marketId')} />}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <Console />
    </QueryClientProvider>
  </StrictMode>,
);

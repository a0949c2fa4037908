/** The Sextant web UI: navigation, hash routing, the connection banner, one page at a time. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ConnectionBanner } from './components/Banner.js';
import { onLiveStatus } from './live-stream.js';
import { Anomalies } from './pages/Anomalies.js';
import { Incidents } from './pages/Incidents.js';
import { Overview } from './pages/Overview.js';
import { Plugins } from './pages/Plugins.js';
import { SeriesExplorer } from './pages/SeriesExplorer.js';
import { Silences } from './pages/Silences.js';
import { formatRoute, parseRoute, type Page, type Route } from './route.js';
import './styles.css';

const NAV: readonly [Page, string][] = [
  ['overview', 'Overview'],
  ['series', 'Series'],
  ['incidents', 'Incidents'],
  ['anomalies', 'Anomalies'],
  ['plugins', 'Plugins'],
  ['silences', 'Silences'],
];

function App() {
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  const [live, setLive] = useState(false);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => onLiveStatus(setLive), []);
  useEffect(() => {
    document.title = `Sextant · ${NAV.find(([p]) => p === route.page)?.[1] ?? ''}`;
  }, [route.page]);
  const navigate = (r: Route) => {
    location.hash = formatRoute(r);
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Sextant</span>
        <nav aria-label="Main">
          {NAV.map(([page, label]) => (
            <a key={page} href={`#/${page}`} aria-current={route.page === page ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`live ${live ? 'live-on' : 'live-off'}`} data-testid="live" title={live ? 'Live updates connected' : 'Live updates disconnected; reconnecting'}>
          {live ? 'live' : 'offline'}
        </span>
      </header>
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        {route.page === 'overview' ? <Overview /> : null}
        {route.page === 'series' ? <SeriesExplorer route={route} navigate={navigate} /> : null}
        {route.page === 'incidents' ? <Incidents route={route} navigate={navigate} /> : null}
        {route.page === 'anomalies' ? <Anomalies route={route} navigate={navigate} /> : null}
        {route.page === 'plugins' ? <Plugins /> : null}
        {route.page === 'silences' ? <Silences /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);

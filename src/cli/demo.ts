// `npm run demo`: loads the demo registry into the configured database (run it while the server is stopped
// on the embedded database, or use `npm start -- --demo`). Does nothing if the registry already has offices.
import { createApp } from '../app.js';
import { issueStaffToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { openServices } from '../services.js';
import { hasData, loadDemoData } from './demo-data.js';

const services = await openServices(loadConfig());
try {
  const app = createApp(services);
  const { token } = await issueStaffToken(services.keys, services.tokenSettings, 'COMPLIANCE', 'demo-loader', 600);
  if (await hasData(app, token)) console.log('The registry already has data; demo not loaded.');
  else { await loadDemoData(app, token); console.log('Demo registry loaded (Northwind Softworks).'); }
} finally {
  await services.close();
}

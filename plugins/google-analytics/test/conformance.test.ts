import { generateKeyPairSync } from 'node:crypto';
import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { ga4CollectorFactory } from '../src/index.js';

// a well-formed key; the API base is a closed loopback port, so rounds fail and must only report it
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const serviceAccountKey = JSON.stringify({ type: 'service_account', client_email: 'x@p.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), token_uri: 'http://127.0.0.1:1/token' });

describeCollectorConformance(ga4CollectorFactory, {
  config: { propertyId: '123456789', serviceAccountKey, apiBase: 'http://127.0.0.1:1', timeout: '2s' },
  invalid: { config: { propertyId: 'G-ABC123', serviceAccountKey }, path: 'google-analytics.propertyId' },
});

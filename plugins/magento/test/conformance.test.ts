import { describeCollectorConformance } from '@sextant/testkit/conformance';
import { magentoCollectorFactory } from '../src/index.js';

// the shop is a closed loopback port: rounds fail and must only report it (magento.up 0)
describeCollectorConformance(magentoCollectorFactory, {
  config: { baseUrl: 'http://127.0.0.1:1', token: 'integration-token', timeout: '2s' },
  invalid: { config: { baseUrl: 'shop.example.com', token: 'integration-token' }, path: 'magento.baseUrl' },
});

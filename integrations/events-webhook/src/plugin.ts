import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { deployWebhookCollectorFactory } from './deploy-webhook-collector.js';

export default createPlugin({
  pluginId: 'events-webhook',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(deployWebhookCollectorFactory);
  },
});

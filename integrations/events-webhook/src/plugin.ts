import { collectorsExtensionPoint, coreServices, createPlugin } from '@sextant/plugin-api';
import { createDeployWebhookCollectorFactory } from './deploy-webhook-collector.js';

export default createPlugin({
  pluginId: 'events-webhook',
  deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
  register({ collectors, http }) {
    collectors.addFactory(createDeployWebhookCollectorFactory({ http }));
  },
});

import { createPlugin, notifiersExtensionPoint } from '@sextant/plugin-api';
import { webhookNotifierFactory } from './webhook-notifier.js';

export default createPlugin({
  pluginId: 'notifier-webhook',
  deps: { notifiers: notifiersExtensionPoint },
  register({ notifiers }) {
    notifiers.addFactory(webhookNotifierFactory);
  },
});

import { createPlugin, notifiersExtensionPoint } from '@sextant/plugin-api';
import { pagerdutyNotifierFactory } from './pagerduty-notifier.js';

export default createPlugin({
  pluginId: 'notifier-pagerduty',
  deps: { notifiers: notifiersExtensionPoint },
  register({ notifiers }) {
    notifiers.addFactory(pagerdutyNotifierFactory);
  },
});

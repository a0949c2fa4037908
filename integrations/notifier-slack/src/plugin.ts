import { createPlugin, notifiersExtensionPoint } from '@sextant/plugin-api';
import { slackNotifierFactory } from './slack-notifier.js';

export default createPlugin({
  pluginId: 'notifier-slack',
  deps: { notifiers: notifiersExtensionPoint },
  register({ notifiers }) {
    notifiers.addFactory(slackNotifierFactory);
  },
});

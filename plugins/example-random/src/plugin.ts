import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { randomCollectorFactory } from './random-collector.js';

export default createPlugin({
  pluginId: 'example-random',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(randomCollectorFactory);
  },
});

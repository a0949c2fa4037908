import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { statsdCollectorFactory } from './statsd-collector.js';

/** The StatsD plugin: one collector factory, type `statsd`. */
export default createPlugin({
  pluginId: 'statsd',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(statsdCollectorFactory);
  },
});

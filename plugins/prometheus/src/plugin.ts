import { collectorsExtensionPoint, createPlugin } from '@sextant/plugin-api';
import { prometheusCollectorFactory } from './prometheus-collector.js';

/** The Prometheus plugin: one collector factory, type `prometheus`, one instance per scrape target. */
export default createPlugin({
  pluginId: 'prometheus',
  deps: { collectors: collectorsExtensionPoint },
  register({ collectors }) {
    collectors.addFactory(prometheusCollectorFactory);
  },
});

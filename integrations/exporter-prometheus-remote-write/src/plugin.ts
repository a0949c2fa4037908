import { createPlugin, exportersExtensionPoint } from '@sextant/plugin-api';
import { remoteWriteExporterFactory } from './remote-write-exporter.js';

/** The Prometheus remote-write exporter plugin: one exporter factory, type `prometheus-remote-write`. */
export default createPlugin({
  pluginId: 'prometheus-remote-write',
  deps: { exporters: exportersExtensionPoint },
  register({ exporters }) {
    exporters.addFactory(remoteWriteExporterFactory);
  },
});

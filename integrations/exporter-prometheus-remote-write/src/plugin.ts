import { createPlugin, exportersExtensionPoint } from '@sextant/plugin-api';
import { federationExporterFactory } from './federation-exporter.js';
import { remoteWriteExporterFactory } from './remote-write-exporter.js';

/** Sextant's signals to Prometheus: pushed by remote write (`prometheus-remote-write`) or scraped from a `/metrics` endpoint (`prometheus-federation`). */
export default createPlugin({
  pluginId: 'prometheus-remote-write',
  deps: { exporters: exportersExtensionPoint },
  register({ exporters }) {
    exporters.addFactory(remoteWriteExporterFactory);
    exporters.addFactory(federationExporterFactory);
  },
});

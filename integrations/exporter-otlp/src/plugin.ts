import { createPlugin, exportersExtensionPoint, notifiersExtensionPoint } from '@sextant/plugin-api';
import { otlpLogsNotifierFactory } from './incident-logs-notifier.js';
import { otlpExporterFactory } from './otlp-exporter.js';

/** Sextant's data and judgement over OTLP: metrics and anomalies (`otlp` exporter), incidents (`otlp-logs` notifier). */
export default createPlugin({
  pluginId: 'otlp-exporter',
  deps: { exporters: exportersExtensionPoint, notifiers: notifiersExtensionPoint },
  register({ exporters, notifiers }) {
    exporters.addFactory(otlpExporterFactory);
    notifiers.addFactory(otlpLogsNotifierFactory);
  },
});

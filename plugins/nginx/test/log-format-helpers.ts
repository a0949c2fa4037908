export { COMBINED_LOG_FORMAT, DEFAULT_LOG_FORMAT, LogLineParser, ParsedLogLine } from '../src/index.js';
export function isSextantErrorLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { $$sextantError?: boolean }).$$sextantError === true;
}

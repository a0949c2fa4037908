/**
 * DogStatsD events:
 *
 *   _e{<title length>,<text length>}:<title>|<text>[|d:<epoch s>][|h:<host>][|k:<aggregation key>]
 *     [|p:normal|low][|s:<source type>][|t:error|warning|info|success][|#tag,...]
 *
 * Datadog documents the lengths in UTF-8 bytes; some clients (hot-shots) send UTF-16 code units.
 * Both are accepted: the one that puts the `|` after the title where it belongs wins. A newline in
 * the text is sent as `\n` (two characters) and restored.
 */
import { canonicalTags, MAX_TAGS } from './statsd-line.js';

export interface DogStatsdEvent {
  readonly title: string;
  readonly text: string;
  /** Seconds since the epoch, when the sender set `d:`. */
  readonly timestamp?: number;
  readonly hostname?: string;
  readonly aggregationKey?: string;
  readonly priority?: string;
  readonly sourceType?: string;
  /** `error`, `warning`, `info` or `success`; `info` when absent. */
  readonly alertType: string;
  readonly tags: readonly string[];
}

export const MAX_EVENT_TITLE = 500;
export const MAX_EVENT_TEXT = 4000;
const HEADER = /^_e\{(\d{1,6}),(\d{1,6})\}:/;

function splitByUnits(body: string, titleLen: number, textLen: number): [string, string, string] | undefined {
  if (body.charCodeAt(titleLen) !== 124 /* | */) return undefined;
  const afterText = titleLen + 1 + textLen;
  if (afterText > body.length || (afterText < body.length && body.charCodeAt(afterText) !== 124)) return undefined;
  return [body.slice(0, titleLen), body.slice(titleLen + 1, afterText), body.slice(afterText)];
}

function splitByBytes(body: string, titleLen: number, textLen: number): [string, string, string] | undefined {
  const bytes = Buffer.from(body, 'utf8');
  if (bytes[titleLen] !== 124) return undefined;
  const afterText = titleLen + 1 + textLen;
  if (afterText > bytes.length || (afterText < bytes.length && bytes[afterText] !== 124)) return undefined;
  return [bytes.toString('utf8', 0, titleLen), bytes.toString('utf8', titleLen + 1, afterText), bytes.toString('utf8', afterText)];
}

/** Parses one `_e{` line; `undefined` when it is malformed (lengths that do not match, no title, too long). */
export function parseDogStatsdEvent(line: string): DogStatsdEvent | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const titleLen = Number(m[1]);
  const textLen = Number(m[2]);
  if (titleLen === 0 || titleLen > MAX_EVENT_TITLE || textLen > MAX_EVENT_TEXT * 2) return undefined;
  const body = line.slice(m[0].length);
  const parts = splitByUnits(body, titleLen, textLen) ?? splitByBytes(body, titleLen, textLen);
  if (!parts) return undefined;
  const [title, rawText, rest] = parts;
  const event: { -readonly [K in keyof DogStatsdEvent]: DogStatsdEvent[K] } = { title, text: rawText.replace(/\\n/g, '\n').slice(0, MAX_EVENT_TEXT), alertType: 'info', tags: [] };
  for (const section of rest.split('|')) {
    if (section.length === 0) continue;
    if (section.startsWith('#')) {
      const tags = canonicalTags(section.slice(1));
      if (tags.length > MAX_TAGS) return undefined;
      event.tags = tags;
    } else if (section.startsWith('d:')) {
      const ts = Number(section.slice(2));
      if (Number.isFinite(ts) && ts > 0) event.timestamp = ts;
    } else if (section.startsWith('h:')) event.hostname = section.slice(2);
    else if (section.startsWith('k:')) event.aggregationKey = section.slice(2);
    else if (section.startsWith('p:')) event.priority = section.slice(2);
    else if (section.startsWith('s:')) event.sourceType = section.slice(2);
    else if (section.startsWith('t:')) event.alertType = section.slice(2);
  }
  return event;
}

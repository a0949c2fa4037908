/**
 * What went wrong while loading plugins and starting instances. `sextant run` prints them all at
 * once; nothing here throws, because one plugin's fault must never stop the others.
 */
import { inject, injectable } from 'tsyringe';
import type { Logger } from '@sextant/plugin-api';
import { TOKENS } from '../tokens.js';

/** A problem found while loading or starting; `run` prints them all at once. */
export interface StartupProblem {
  readonly plugin?: string;
  readonly instance?: string;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

@injectable()
export class StartupProblems {
  /** In the order they were found. */
  readonly list: StartupProblem[] = [];

  constructor(@inject(TOKENS.logger) private readonly logger: Logger) {}

  /** Records and logs one problem (as an error line with its code and hint). */
  add(p: StartupProblem): void {
    this.list.push(p);
    this.logger.error(`${p.code}: ${p.message}${p.hint ? `; ${p.hint}` : ''}`, { ...(p.plugin ? { plugin: p.plugin } : {}), ...(p.instance ? { instance: p.instance } : {}) });
  }
}

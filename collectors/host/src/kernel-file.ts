/**
 * Reads files of procfs and sysfs. Synchronous on purpose: these reads are served from kernel
 * memory in microseconds and never touch a disk or the network, so a thread-pool round trip
 * would cost more than the read. (statfs of mountpoints, which can hang on network filesystems,
 * is asynchronous; see FilesystemRecorder.)
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { ErrorCode, SextantError } from '@sextant/plugin-api';

export type KernelFileRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly errno: string; readonly error: SextantError };

function hintFor(errno: string, path: string): string {
  if (errno === 'ENOENT') return `check procRoot/sysRoot in the host collector's config (${path} does not exist; in a container, mount the host's /proc and set procRoot)`;
  if (errno === 'EACCES' || errno === 'EPERM') return `give the agent read access to ${path}`;
  return `check that ${path} is a readable procfs/sysfs file`;
}

/**
 * One buffer shared by every read (reads are synchronous, so never concurrent). procfs files
 * report size 0, so the file is read until EOF; the buffer doubles when a file outgrows it
 * (/proc/stat on machines with thousands of CPUs and interrupts).
 */
let buffer = Buffer.allocUnsafe(64 * 1024);

function readWhole(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const grown = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole kernel text file; never throws. */
export function readKernelFile(path: string): KernelFileRead {
  try {
    return { ok: true, text: readWhole(path) };
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code ?? 'EIO';
    const error = new SextantError(ErrorCode.PARSE_FAILED, `cannot read ${path} (${errno})`, { hint: hintFor(errno, path), details: { path, errno }, cause });
    return { ok: false, errno, error };
  }
}

/** The coded error for a file whose content is malformed. */
export function malformedFileError(path: string, reason: string): SextantError {
  return new SextantError(ErrorCode.PARSE_FAILED, `cannot parse ${path}: ${reason}`, {
    hint: 'the file does not look like the kernel format this collector knows; if procRoot points at a copy, check it is complete, otherwise report the kernel version and file content',
    details: { path },
  });
}

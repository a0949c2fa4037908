/**
 * Finds a container's cgroup directories, for both cgroup versions and both Docker cgroup drivers:
 *
 * | layout            | v1 (per controller)                                  | v2 (unified)                                   |
 * |-------------------|------------------------------------------------------|------------------------------------------------|
 * | cgroupfs driver   | `<root>/<ctrl>/docker/<id>`                          | `<root>/docker/<id>`                           |
 * | systemd driver    | `<root>/<ctrl>/system.slice/docker-<id>.scope`       | `<root>/system.slice/docker-<id>.scope`        |
 * | podman (systemd)  | `<root>/<ctrl>/machine.slice/libpod-<id>.scope`      | `<root>/machine.slice/libpod-<id>.scope`       |
 *
 * The authoritative source is `/proc/<pid>/cgroup` of the container's init process
 * (`hierarchy:controllers:path` lines; v2 is the `0::path` line), read from the host's cgroup
 * namespace. When that file cannot be read (pid gone, agent in its own cgroup namespace), the
 * known layouts above are probed by id.
 *
 * The host is v2 ("unified") when `<root>/cgroup.controllers` exists; otherwise v1 (a "hybrid"
 * host with a v2 tree at `<root>/unified` is read through its v1 controllers, which hold the
 * limits and throttling counters).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupController = 'cpu' | 'cpuacct' | 'memory' | 'blkio' | 'pids';
const V1_CONTROLLERS: readonly CgroupController[] = ['cpu', 'cpuacct', 'memory', 'blkio', 'pids'];

export type CgroupLocation =
  | { readonly version: 1; readonly dirs: Readonly<Partial<Record<CgroupController, string>>> }
  | { readonly version: 2; readonly dir: string };

/** 1 or 2, as described above. */
export function cgroupVersion(cgroupRoot: string): 1 | 2 {
  return existsSync(join(cgroupRoot, 'cgroup.controllers')) ? 2 : 1;
}

/** Parses `/proc/<pid>/cgroup` into controller -> path (`''` keys the v2 line). Skips bad lines. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (!path.startsWith('/')) continue;
    if (controllers === '') out.set('', path);
    else for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}

function candidateSuffixes(id: string): string[] {
  return [`docker/${id}`, `system.slice/docker-${id}.scope`, `machine.slice/libpod-${id}.scope`, `libpod_parent/libpod-${id}`];
}

/** The mount directory of a v1 controller: `<root>/cpu`, or a co-mount like `<root>/cpu,cpuacct`. */
function v1Mount(cgroupRoot: string, controller: CgroupController): string | undefined {
  const direct = join(cgroupRoot, controller);
  if (existsSync(direct)) return direct;
  for (const combo of ['cpu,cpuacct', 'cpuacct,cpu']) {
    if (combo.split(',').includes(controller) && existsSync(join(cgroupRoot, combo))) return join(cgroupRoot, combo);
  }
  return undefined;
}

/**
 * Locates the cgroup of container `id` with init process `pid` (0 when unknown). Returns undefined
 * when no directory exists for it (container stopped, or a layout we do not know).
 */
export function locateContainerCgroup(id: string, pid: number, cgroupRoot: string, procRoot: string): CgroupLocation | undefined {
  const version = cgroupVersion(cgroupRoot);
  let paths: Map<string, string> | undefined;
  if (pid > 0) {
    try {
      paths = parseProcCgroup(readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8'));
    } catch {
      paths = undefined;
    }
  }
  if (version === 2) {
    const fromProc = paths?.get('');
    if (fromProc && fromProc !== '/' && existsSync(join(cgroupRoot, fromProc))) return { version: 2, dir: join(cgroupRoot, fromProc) };
    for (const suffix of candidateSuffixes(id)) {
      const dir = join(cgroupRoot, suffix);
      if (existsSync(dir)) return { version: 2, dir };
    }
    return undefined;
  }
  const dirs: Partial<Record<CgroupController, string>> = {};
  let found = 0;
  for (const controller of V1_CONTROLLERS) {
    const mount = v1Mount(cgroupRoot, controller);
    if (!mount) continue;
    const fromProc = paths?.get(controller);
    const candidates = fromProc && fromProc !== '/' ? [fromProc, ...candidateSuffixes(id)] : candidateSuffixes(id);
    for (const suffix of candidates) {
      const dir = join(mount, suffix);
      if (existsSync(dir)) {
        dirs[controller] = dir;
        found++;
        break;
      }
    }
  }
  return found > 0 ? { version: 1, dirs } : undefined;
}

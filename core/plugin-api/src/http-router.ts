/**
 * The runtime's HTTP server (`coreServices.httpRouter`), for components that receive data over
 * HTTP (change-event receivers, the RUM beacon endpoint): instead of opening a port of their own,
 * they mount a handler under `/ingest/<name>/` of the server that serves the API
 * (`server.host:server.port`, default 127.0.0.1:7070). The runtime parses nothing: the handler sees the method, path below its mount,
 * headers and the raw body (capped at its limit), and returns a status, headers and a body.
 *
 * ```ts
 * createPlugin({
 *   pluginId: 'events-chef',
 *   deps: { collectors: collectorsExtensionPoint, http: coreServices.httpRouter },
 *   register({ collectors, http }) { collectors.addFactory(createChefCollectorFactory({ http })); },
 * });
 * ```
 *
 * `available` is false where the process serves no HTTP (an agent without `--port`, `--no-api`):
 * `mount()` then throws `SEXTANT_ERR_CONFIG_INVALID`, and a component should say the user must
 * give it a port of its own. Mounts made before the API server starts answer once it listens.
 */
/** One request routed to a mount. */
export interface HttpRouteRequest {
  readonly method: string;
  /** Path below the mount, starting with `/` (`/` for the mount itself), without the query. */
  readonly path: string;
  /** The query string without `?` (`''` when none). */
  readonly query: string;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body, at most the mount's `bodyLimit` bytes (empty when none was sent). */
  readonly body: Buffer;
  /** Address of the peer (the proxy's, behind one). */
  readonly remoteAddress: string;
}

/** What a handler answers. */
export interface HttpRouteResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A string or Buffer is sent as is; anything else as JSON. Nothing: an empty body. */
  readonly body?: unknown;
}

export interface HttpMountOptions {
  /** Largest body in bytes; a larger one is answered by `tooLarge` without being read to the end. */
  readonly bodyLimit: number;
  /**
   * Runs before the body is read (method, token, origin checks): return a response to refuse the
   * request there, or undefined to go on.
   */
  precheck?(request: Omit<HttpRouteRequest, 'body'>): HttpRouteResponse | undefined;
  /** Answers a request whose body went over `bodyLimit`. Default: 413 with a JSON error body. */
  tooLarge?(request: Omit<HttpRouteRequest, 'body'>): HttpRouteResponse;
  /** Answers one request. A throw is answered 500 and logged by the runtime. */
  handle(request: HttpRouteRequest): HttpRouteResponse | Promise<HttpRouteResponse>;
}

export interface HttpMount {
  /** The mount's path on the server, `/ingest/<name>`. */
  readonly path: string;
  /** Removes the mount; later requests get 404. Idempotent. */
  close(): void;
}

export interface HttpRouterService {
  /** Whether this process serves HTTP for mounts (the API server is enabled). */
  readonly available: boolean;
  /**
   * Mounts `options.handle` at `/ingest/<name>/` (and below). `name`: the instance id (letters,
   * digits, `.`, `_`, `-`, `/`). Throws `SEXTANT_ERR_CONFIG_INVALID` when `available` is false or
   * the name is taken.
   */
  mount(name: string, options: HttpMountOptions): HttpMount;
}

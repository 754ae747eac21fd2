// A small client of the admin API for the CLI. Errors come back as the API's
// { code, message, details } and are rethrown as CliError with exit code 1.
import { CliError, ExitCode } from './exit.js';

export interface AdminErrorBody {
  code: string;
  message: string;
  extension?: string;
  details?: Record<string, unknown>;
}

export class AdminApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: AdminErrorBody,
  ) {
    super(body.message, status === 400 || status === 413 ? ExitCode.USAGE : ExitCode.REFUSED, body.code);
  }
}

export class AdminClient {
  readonly #base: string;
  readonly #token: string;

  constructor(registryUrl: string, token: string) {
    let url: URL;
    try {
      url = new URL(registryUrl);
    } catch {
      throw new CliError(`--registry must be a URL such as http://127.0.0.1:4000; got "${registryUrl}".`, ExitCode.USAGE);
    }
    this.#base = url.href.replace(/\/+$/, '').replace(/\/admin$/, '');
    this.#token = token;
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}/admin${path}`, {
        method,
        redirect: 'error',
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new CliError(`Cannot reach the registry at ${this.#base}: ${(error as Error).message}. Is the gateway running?`, ExitCode.REFUSED);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliError(`The registry answered HTTP ${response.status} with a body that is not JSON.`, ExitCode.REFUSED);
    }
    if (!response.ok) {
      const errorBody = json as Partial<AdminErrorBody> | undefined;
      throw new AdminApiError(response.status, {
        code: errorBody?.code ?? `HTTP_${response.status}`,
        message: errorBody?.message ?? `The registry answered HTTP ${response.status}.`,
        ...(errorBody?.details ? { details: errorBody.details } : {}),
      });
    }
    return json as T;
  }
}

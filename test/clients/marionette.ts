// A small Marionette client: the protocol Gecko applications (Firefox, Thunderbird) speak
// when started with --marionette. Each message is `<byte length>:<JSON>` over TCP; the
// server greets with {applicationType, marionetteProtocol}, a command is
// [0, id, name, params] and its answer [1, id, error | null, result].
import { connect, type Socket } from 'node:net';

export class MarionetteError extends Error {
  override name = 'MarionetteError';

  constructor(
    readonly command: string,
    readonly error: string,
    message: string,
    readonly stacktrace?: string,
  ) {
    super(`${command}: ${error}: ${message}`);
  }
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class Marionette {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private greetingWaiter: { resolve: (g: Record<string, unknown>) => void; reject: (e: Error) => void } | undefined;
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('Marionette connection closed')));
  }

  /** Connects to a Marionette server on loopback and reads its greeting. */
  static async connect(port: number, host = '127.0.0.1'): Promise<{ client: Marionette; greeting: Record<string, unknown> }> {
    if (!/^127\.|^::1$/.test(host)) throw new Error(`refusing to connect to non-loopback host ${host}`);
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ port, host });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const client = new Marionette(socket);
    const greeting = await new Promise<Record<string, unknown>>((resolve, reject) => {
      client.greetingWaiter = { resolve, reject };
      client.drain();
    });
    return { client, greeting };
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.drain();
  }

  /** Takes every complete `<length>:<json>` packet off the buffer. */
  private drain(): void {
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString('ascii'));
      if (!Number.isSafeInteger(length) || length < 0) {
        this.fail(new Error(`bad Marionette packet header "${this.buffer.subarray(0, colon).toString('ascii')}"`));
        return;
      }
      if (this.buffer.length < colon + 1 + length) return;
      const body = this.buffer.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.buffer = this.buffer.subarray(colon + 1 + length);
      this.onPacket(JSON.parse(body) as unknown);
    }
  }

  private onPacket(packet: unknown): void {
    if (!Array.isArray(packet)) {
      const waiter = this.greetingWaiter;
      this.greetingWaiter = undefined;
      waiter?.resolve(packet as Record<string, unknown>);
      return;
    }
    const [type, id, error, result] = packet as [number, number, { error: string; message: string; stacktrace?: string } | null, unknown];
    if (type !== 1) return; // we never receive commands
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (error) pending.reject(new MarionetteError(pending.command, error.error, error.message, error.stacktrace));
    else pending.resolve(result);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.greetingWaiter?.reject(err);
    this.greetingWaiter = undefined;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Sends one command and waits for its answer. */
  send<T = unknown>(command: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const body = Buffer.from(JSON.stringify([0, id, command, params]), 'utf8');
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body]));
    });
  }

  async newSession(capabilities: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.send('WebDriver:NewSession', { capabilities: { alwaysMatch: capabilities } });
  }

  async setContext(context: 'chrome' | 'content'): Promise<void> {
    await this.send('Marionette:SetContext', { value: context });
  }

  async setScriptTimeout(ms: number): Promise<void> {
    await this.send('WebDriver:SetTimeouts', { script: ms });
  }

  /**
   * Runs `body` as an async function in the current context (chrome: with system
   * privileges) with `args` as `arguments`, and returns what it returns, carried as JSON.
   */
  async run<T>(body: string, args: unknown[] = []): Promise<T> {
    const script = `
      const __done = arguments[arguments.length - 1];
      const __args = Array.prototype.slice.call(arguments, 0, -1);
      (async function () { ${body} }).apply(null, __args).then(
        (value) => __done(JSON.stringify({ ok: true, value: value === undefined ? null : value })),
        (err) => __done(JSON.stringify({ ok: false, error: String(err && err.stack ? err + '\\n' + err.stack : err) })),
      );`;
    const answer = await this.send<{ value: string }>('WebDriver:ExecuteAsyncScript', { script, args, newSandbox: true });
    const parsed = JSON.parse(answer.value) as { ok: true; value: T } | { ok: false; error: string };
    if (!parsed.ok) throw new Error(`script failed in the application: ${parsed.error}`);
    return parsed.value;
  }

  /** Asks the application to quit; resolves once it says it is quitting. */
  async quit(): Promise<void> {
    await this.send('Marionette:Quit', { flags: ['eForceQuit'] });
  }

  close(): void {
    this.socket.destroy();
  }
}

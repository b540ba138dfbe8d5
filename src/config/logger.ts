// pino, as JSON lines by default; human-readable only when LOG_FORMAT=pretty asks for it.
import pino, { type Logger } from 'pino';

export function createLogger(level: string, pretty: boolean): Logger {
  return pino({
    level,
    // Belt and braces: no code logs these, and none ever should.
    redact: ['req.headers.authorization', 'headers.authorization', 'password'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: false } } } : {}),
  });
}

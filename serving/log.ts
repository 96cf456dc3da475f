/**
 * The logging interface serving/, registry/ and server/ write through: one line per
 * event, to stderr by default. Tests pass a quiet or capturing logger.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

function stamp(level: string, message: string): string {
  return `${new Date().toISOString()} ${level} ${message}`;
}

export const consoleLogger: Logger = {
  info: (m) => console.error(stamp('I', m)),
  warn: (m) => console.error(stamp('W', m)),
  error: (m) => console.error(stamp('E', m)),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

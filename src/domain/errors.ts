// The error catalogue: every user-facing failure has a stable code; codes are never reused.

export const ERROR_CODES = {
  SW_CONFIG_PARSE: "the config file is not valid YAML",
  SW_CONFIG_INVALID: "the config file does not match the schema",
  SW_CONFIG_READ: "the config file cannot be read",
  SW_FILTER_NOT_FOUND: "no filter by that name or path",
  SW_FILTER_SYNTAX: "the filter file cannot be parsed",
  SW_FILTER_REGEX: "a filter regex cannot be translated or compiled",
  SW_FILTER_INTERPOLATION: "a %(name)s reference cannot be resolved",
  SW_USAGE: "bad command-line usage",
  SW_SOURCE: "a log source cannot be read",
  SW_ALLOWLIST: "an allowlist entry is invalid",
  SW_STORE_OPEN: "the state database cannot be opened or created",
  SW_STORE_VERSION: "the state database was written by a newer sipwarden",
  SW_STORE_CORRUPT: "the state database file is damaged or not a database",
  SW_FIREWALL_POLICY: "the firewall policy compiled from the config is inconsistent",
  SW_FIREWALL_APPLY: "the firewall tools refused the ruleset or could not run",
  SW_FIREWALL_LOCKOUT: "the policy would refuse the SSH session the command runs in",
  SW_FIREWALL_TRIAL: "a trial apply is pending, or there is none to confirm",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where in a file the problem is; every field optional because not every input is a file. */
export interface ErrorLocation {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly key?: string;
}

/**
 * A user error: bad input that the user can fix. The CLI prints its message on one line and exits 2;
 * anything else thrown is a bug (exit 1 with a stack).
 */
export class UserError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;
  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}) {
    super(message);
    this.name = "UserError";
    this.code = code;
    this.location = location;
  }

  /** `file:line: key: message [CODE]`, omitting what is unknown. */
  format(): string {
    const where = [this.location.file, this.location.line, this.location.column].filter(
      (x) => x !== undefined,
    );
    const prefix = where.length > 0 ? `${where.join(":")}: ` : "";
    const key = this.location.key ? `${this.location.key}: ` : "";
    return `${prefix}${key}${this.message} [${this.code}]`;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** A system error's code (`ENOENT`), or the error as text: what a warning about a file says after its name. */
export function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

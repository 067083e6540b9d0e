// Failures of the enforcement layer, with stable codes so callers and the CLI can tell them apart.

/**
 * Codes owned by enforce until the shared catalogue in domain/errors.ts adopts them; never reused.
 * - SW_ENFORCE_POLICY: the policy IR is inconsistent (caught before anything reaches the kernel).
 * - SW_ENFORCE_TARGET: a ban/unban target is not a valid, supported address.
 * - SW_ENFORCE_SCOPE: a ban asks for a scope that no ban set of the applied policy provides.
 * - SW_ENFORCE_APPLY: the kernel (through nft) refused a transaction; nothing of it took effect.
 * - SW_ENFORCE_COMMAND: a helper program failed for another reason (missing, crashed, timed out).
 * - SW_ENFORCE_STATE: a verb was used before `apply` installed a policy.
 */
export type EnforceErrorCode =
  | "SW_ENFORCE_POLICY"
  | "SW_ENFORCE_TARGET"
  | "SW_ENFORCE_SCOPE"
  | "SW_ENFORCE_APPLY"
  | "SW_ENFORCE_COMMAND"
  | "SW_ENFORCE_STATE";

/** Where in a generated script the kernel tool pointed, so the report names the offending line. */
export interface ScriptLocation {
  readonly line: number;
  readonly text: string;
}

export class EnforceError extends Error {
  readonly code: EnforceErrorCode;
  readonly location: ScriptLocation | null;
  /** Raw diagnostic output of the tool, when one was run. */
  readonly stderr: string;
  constructor(
    code: EnforceErrorCode,
    message: string,
    extra: { location?: ScriptLocation; stderr?: string } = {},
  ) {
    super(message);
    this.name = "EnforceError";
    this.code = code;
    this.location = extra.location ?? null;
    this.stderr = extra.stderr ?? "";
  }
}

export function isEnforceError(e: unknown): e is EnforceError {
  return e instanceof EnforceError;
}

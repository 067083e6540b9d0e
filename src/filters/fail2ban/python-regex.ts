// Parses Python `re` syntax (as fail2ban filters are written) into a small syntax tree.

/** A shorthand class usable inside and outside brackets. */
export type Shorthand = "d" | "D" | "w" | "W" | "s" | "S";

export type ClassItem =
  | { readonly t: "range"; readonly lo: number; readonly hi: number }
  | { readonly t: "short"; readonly c: Shorthand };

/** Flags that can change meaning inside a scope; `x` is applied while parsing. */
export interface ScopeFlags {
  readonly i: boolean;
  readonly m: boolean;
  readonly s: boolean;
}

export type RegexNode =
  | { readonly t: "seq"; readonly items: readonly RegexNode[] }
  | { readonly t: "alt"; readonly branches: readonly RegexNode[] }
  | { readonly t: "char"; readonly cp: number }
  | { readonly t: "class"; readonly negated: boolean; readonly items: readonly ClassItem[] }
  | { readonly t: "short"; readonly c: Shorthand }
  | { readonly t: "any" }
  | { readonly t: "assert"; readonly kind: "^" | "$" | "A" | "Z" | "b" | "B" }
  | {
      readonly t: "group";
      /** 1-based capture number, or 0 for a non-capturing group. */
      readonly index: number;
      readonly name?: string;
      /** Flags switched on/off for this group only, as in `(?i:...)`. */
      readonly flagsOn?: string;
      readonly flagsOff?: string;
      readonly body: RegexNode;
    }
  | { readonly t: "look"; readonly behind: boolean; readonly negative: boolean; readonly body: RegexNode }
  | { readonly t: "backref"; readonly index: number }
  | {
      readonly t: "quant";
      readonly body: RegexNode;
      readonly min: number;
      readonly max: number;
      readonly lazy: boolean;
    };

/** Verbose mode for a stretch of pattern: on, off, or null to follow the global `(?x)`. */
type Verbose = boolean | null;

export interface ParsedRegex {
  readonly ast: RegexNode;
  /** Flags that apply to the whole pattern (Python applies `(?i)` globally wherever it appears). */
  readonly globalFlags: ScopeFlags;
  /** Capture names by 1-based index; undefined for unnamed groups. */
  readonly groupNames: readonly (string | undefined)[];
  /** True when some group switches flags locally (`(?i:...)`). */
  readonly hasScopedFlags: boolean;
}

/** Why a pattern cannot be accepted; the loader turns it into a UserError with the file location. */
export class RegexSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = "RegexSyntaxError";
  }
}

const FLAG_LETTERS = "aiLmsux";
const SHORTHANDS = "dDwWsS";

/** Parses a Python regex. Throws RegexSyntaxError for invalid or unsupported syntax. */
export function parsePythonRegex(source: string): ParsedRegex {
  const first = new Parser(source, false).run();
  // `(?x)` anywhere changes how the whole pattern is read, so a verbose pattern is parsed a second time.
  if (first.verbose) return new Parser(source, true).run().result;
  return first.result;
}

class Parser {
  private pos = 0;
  private readonly names: (string | undefined)[] = [];
  private readonly closed = new Set<number>();
  private readonly global = { i: false, m: false, s: false, x: false };
  private scoped = false;

  constructor(
    private readonly src: string,
    private readonly verboseGlobal: boolean,
  ) {}

  run(): { result: ParsedRegex; verbose: boolean } {
    const ast = this.parseAlt(this.verboseGlobal ? true : null);
    if (this.pos < this.src.length) this.fail("unbalanced parenthesis");
    return {
      result: {
        ast,
        globalFlags: { i: this.global.i, m: this.global.m, s: this.global.s },
        groupNames: this.names,
        hasScopedFlags: this.scoped,
      },
      verbose: this.global.x,
    };
  }

  private fail(why: string, at = this.pos): never {
    throw new RegexSyntaxError(`${why} at position ${at}`, at);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  private parseAlt(verbose: Verbose): RegexNode {
    const branches: RegexNode[] = [this.parseSeq(verbose)];
    while (this.peek() === "|") {
      this.pos++;
      branches.push(this.parseSeq(verbose));
    }
    return branches.length === 1 ? (branches[0] as RegexNode) : { t: "alt", branches };
  }

  private parseSeq(verbose: Verbose): RegexNode {
    const items: RegexNode[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      // A `(?x)` met earlier turns verbose mode on from here; one met later triggers a second parse.
      const vb = verbose ?? this.global.x;
      if (vb && /\s/.test(c)) {
        this.pos++;
        continue;
      }
      if (vb && c === "#") {
        while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
        continue;
      }
      const start = this.pos;
      const atom = this.parseAtom(verbose);
      if (atom === null) continue;
      const quantified = this.parseQuantifier(atom, start, verbose);
      items.push(quantified);
    }
    return items.length === 1 ? (items[0] as RegexNode) : { t: "seq", items };
  }

  private parseQuantifier(atom: RegexNode, atomStart: number, verbose: Verbose): RegexNode {
    let node = atom;
    for (;;) {
      if (verbose ?? this.global.x) this.skipVerbose();
      const c = this.peek();
      let min: number;
      let max: number;
      if (c === "*") [min, max] = [0, Infinity];
      else if (c === "+") [min, max] = [1, Infinity];
      else if (c === "?") [min, max] = [0, 1];
      else if (c === "{") {
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 24));
        if (!m || (m[1] === "" && m[2] === undefined)) return node; // a literal brace, as Python reads it
        min = m[1] === "" ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
        if (max < min) this.fail("min repeat greater than max repeat");
        this.pos += m[0].length - 1;
      } else return node;
      this.pos++;
      if (node.t === "assert" || node.t === "look") this.fail("nothing to repeat", atomStart);
      if (node.t === "quant") this.fail("multiple repeat", atomStart);
      let lazy = false;
      if (this.peek() === "?") {
        lazy = true;
        this.pos++;
      } else if (this.peek() === "+") {
        this.fail("possessive quantifiers are not supported (Python before 3.11 has none)");
      }
      node = { t: "quant", body: node, min, max, lazy };
    }
  }

  private skipVerbose(): void {
    for (;;) {
      const c = this.peek();
      if (c !== undefined && /\s/.test(c)) this.pos++;
      else if (c === "#") while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
      else return;
    }
  }

  /** Returns null for constructs that match nothing and take no space: comments, global flags. */
  private parseAtom(verbose: Verbose): RegexNode | null {
    const c = this.peek() as string;
    switch (c) {
      case "(":
        return this.parseGroup(verbose);
      case "[":
        return this.parseClass();
      case ".":
        this.pos++;
        return { t: "any" };
      case "^":
        this.pos++;
        return { t: "assert", kind: "^" };
      case "$":
        this.pos++;
        return { t: "assert", kind: "$" };
      case "\\":
        return this.parseEscape(false) as RegexNode;
      case "*":
      case "+":
      case "?":
        this.fail("nothing to repeat");
        break;
      case "{":
        // Python reads a brace that does not start a valid repeat as a literal; a repeat with nothing
        // before it is an error.
        if (/^\{\d*(?:,\d*)?\}/.test(this.src.slice(this.pos, this.pos + 24)) && !this.startsWith("{}"))
          this.fail("nothing to repeat");
        break;
    }
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return { t: "char", cp };
  }

  private parseGroup(verbose: Verbose): RegexNode | null {
    const open = this.pos;
    this.pos++; // (
    if (this.peek() !== "?") return this.capture(undefined, verbose, open);
    this.pos++; // ?
    const c = this.peek();
    if (c === ":") {
      this.pos++;
      return this.nonCapture(verbose, open);
    }
    if (c === "P" && this.peek(1) === "<") {
      this.pos += 2;
      return this.capture(this.groupName(">"), verbose, open);
    }
    if (c === "<" && this.peek(1) !== "=" && this.peek(1) !== "!") {
      // Not Python syntax, but unambiguous and common in regexes copied from other engines.
      this.pos += 1;
      return this.capture(this.groupName(">"), verbose, open);
    }
    if (c === "P" && this.peek(1) === "=") {
      this.pos += 2;
      const name = this.groupName(")");
      const index = this.names.indexOf(name);
      if (index < 0) this.fail(`unknown group name '${name}'`, open);
      return { t: "backref", index: index + 1 };
    }
    if (c === "#") {
      const end = this.src.indexOf(")", this.pos);
      if (end < 0) this.fail("missing ), unterminated comment", open);
      this.pos = end + 1;
      return null;
    }
    if (c === "=" || c === "!" || (c === "<" && (this.peek(1) === "=" || this.peek(1) === "!"))) {
      const behind = c === "<";
      if (behind) this.pos++;
      const negative = this.peek() === "!";
      this.pos++;
      const body = this.parseAlt(verbose);
      this.expectClose(open);
      return { t: "look", behind, negative, body };
    }
    if (c === "(") this.fail("conditional groups (?(id)yes|no) are not supported", open);
    if (c === ">") this.fail("atomic groups (?>...) are not supported (Python before 3.11 has none)", open);
    if (c !== undefined && (FLAG_LETTERS.includes(c) || c === "-")) return this.flagGroup(verbose, open);
    return this.fail(`unknown extension ?${c ?? ""}`, open);
  }

  private groupName(terminator: string): string {
    const end = this.src.indexOf(terminator, this.pos);
    if (end < 0) this.fail("missing group name terminator");
    const name = this.src.slice(this.pos, end);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`bad character in group name '${name}'`);
    this.pos = end + 1;
    return name;
  }

  private expectClose(open: number): void {
    if (this.peek() !== ")") this.fail("missing ), unterminated subpattern", open);
    this.pos++;
  }

  private capture(name: string | undefined, verbose: Verbose, open: number): RegexNode {
    // fail2ban rewrites `((?i)x)` to `(?i:x)` before compiling, dropping the capture; do the same.
    const scoped = this.leadingFlags();
    if (scoped) return this.scopedGroup(scoped, verbose, open);
    if (name !== undefined && this.names.includes(name))
      this.fail(`redefinition of group name '${name}'`, open);
    this.names.push(name);
    const index = this.names.length;
    const body = this.parseAlt(verbose);
    this.expectClose(open);
    this.closed.add(index);
    return name === undefined ? { t: "group", index, body } : { t: "group", index, name, body };
  }

  private nonCapture(verbose: Verbose, open: number): RegexNode {
    const scoped = this.leadingFlags();
    if (scoped) return this.scopedGroup(scoped, verbose, open);
    const body = this.parseAlt(verbose);
    this.expectClose(open);
    return { t: "group", index: 0, body };
  }

  /** Recognises `(?flags)` right after a group opening (fail2ban's global-to-local flag rewrite). */
  private leadingFlags(): string | null {
    const m = /^\(\?([aiLmsux]+)\)/.exec(this.src.slice(this.pos, this.pos + 12));
    if (!m) return null;
    this.pos += m[0].length;
    return m[1] as string;
  }

  private scopedGroup(on: string, verbose: Verbose, open: number): RegexNode {
    this.scoped = true;
    const body = this.parseAlt(on.includes("x") ? true : verbose);
    this.expectClose(open);
    return { t: "group", index: 0, flagsOn: on, body };
  }

  private flagGroup(verbose: Verbose, open: number): RegexNode | null {
    const m = /^([aiLmsux]*)(?:-([imsx]*))?([:)])/.exec(this.src.slice(this.pos, this.pos + 16));
    if (!m) return this.fail("unknown flag", open);
    const on = m[1] as string;
    const off = m[2] ?? "";
    this.pos += m[0].length;
    if (m[3] === ")") {
      if (off !== "") this.fail("global flags cannot be turned off", open);
      for (const f of on) if (f === "i" || f === "m" || f === "s" || f === "x") this.global[f] = true;
      return null;
    }
    this.scoped = true;
    const body = this.parseAlt(on.includes("x") ? true : off.includes("x") ? false : verbose);
    this.expectClose(open);
    return { t: "group", index: 0, flagsOn: on, flagsOff: off, body };
  }

  private parseClass(): RegexNode {
    const open = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail("unterminated character set", open);
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      const lo = this.classAtom();
      if (lo.t === "short") {
        items.push(lo);
        continue;
      }
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        this.pos++;
        const hiStart = this.pos;
        const hi = this.classAtom();
        if (hi.t === "short") this.fail("bad character range", hiStart);
        if (hi.lo < lo.lo) this.fail("bad character range", hiStart);
        items.push({ t: "range", lo: lo.lo, hi: hi.lo });
      } else items.push(lo);
    }
    return { t: "class", negated, items };
  }

  private classAtom(): ClassItem {
    if (this.peek() === "\\") {
      const e = this.parseEscape(true);
      if (e.t === "short") return e;
      if (e.t === "char") return { t: "range", lo: e.cp, hi: e.cp };
      return this.fail("bad escape in character set");
    }
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return { t: "range", lo: cp, hi: cp };
  }

  private parseEscape(inClass: boolean): RegexNode {
    const at = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    if (c === undefined) this.fail("bad escape (end of pattern)", at);
    this.pos++;
    if (SHORTHANDS.includes(c)) return { t: "short", c: c as Shorthand };
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7 };
    if (c in simple) return { t: "char", cp: simple[c] as number };
    if (c === "b") return inClass ? { t: "char", cp: 8 } : { t: "assert", kind: "b" };
    if (!inClass && (c === "B" || c === "A" || c === "Z")) return { t: "assert", kind: c };
    if (c === "x") return { t: "char", cp: this.hex(2, at) };
    if (c === "u") return { t: "char", cp: this.hex(4, at) };
    if (c === "U") return { t: "char", cp: this.hex(8, at) };
    if (c === "N") this.fail("named unicode escapes \\N{...} are not supported", at);
    if (c === "0") return { t: "char", cp: this.octal() };
    if (/[1-9]/.test(c)) {
      // Three octal digits are an octal escape; otherwise one or two digits are a backreference.
      const three = this.src.slice(at + 1, at + 4);
      if (/^[0-7]{3}$/.test(three)) {
        this.pos = at + 4;
        const cp = parseInt(three, 8);
        if (cp > 0o377) this.fail("octal escape value outside of range 0-0o377", at);
        return { t: "char", cp };
      }
      if (inClass) this.fail("bad escape (backreference in character set)", at);
      let digits = c;
      if (/[0-9]/.test(this.peek() ?? "")) digits += this.src[this.pos++];
      const index = Number(digits);
      if (!this.closed.has(index)) {
        this.fail(
          index > this.names.length ? `invalid group reference ${index}` : "cannot refer to an open group",
          at,
        );
      }
      return { t: "backref", index };
    }
    if (/[A-Za-z0-9]/.test(c)) this.fail(`bad escape \\${c}`, at);
    this.pos = at + 1;
    const cp = this.src.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return { t: "char", cp };
  }

  private hex(n: number, at: number): number {
    const digits = this.src.slice(this.pos, this.pos + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) this.fail("incomplete hex escape", at);
    this.pos += n;
    const cp = parseInt(digits, 16);
    if (cp > 0x10ffff) this.fail("bad unicode escape", at);
    return cp;
  }

  /** `\0` takes up to two more octal digits. */
  private octal(): number {
    let digits = "0";
    while (digits.length < 3 && /[0-7]/.test(this.peek() ?? "")) digits += this.src[this.pos++];
    return parseInt(digits, 8);
  }
}

// ipaddr.js, loaded with require: an ESM `import` of a CommonJS module makes Node lex its whole source for
// export names first (cjs-module-lexer, in JavaScript on Node 20): for ipaddr.js's 38 KB that lexing ran hot
// enough to be optimised at every start of every command and worker thread (measured: test-filter on the
// benchmark log ~25 ms sooner). The same object the default import gave.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

const ipaddr = require("ipaddr.js") as typeof import("ipaddr.js");

export default ipaddr;

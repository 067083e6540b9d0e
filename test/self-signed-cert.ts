// A self-signed certificate for a loopback server under test (an SMTP relay, a Redis over TLS), made by
// Debian's openssl: trusted only by what is told to trust it.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const OPENSSL = "/usr/bin/openssl";

/** Writes `<name>-cert.pem` and `<name>-key.pem` (P-256, two days) into `dir`, for 127.0.0.1 and localhost. */
export function selfSignedCert(dir: string, name: string): { readonly cert: string; readonly key: string } {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} is missing: apt-get install openssl`);
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  const made = spawnSync(
    OPENSSL,
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
    ].concat(
      ["-subj", `/CN=${name}.test`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ["-keyout", key, "-out", cert],
    ),
    { encoding: "utf8" },
  );
  if (made.status !== 0) throw new Error(`openssl could not make the certificate: ${made.stderr}`);
  return { cert, key };
}

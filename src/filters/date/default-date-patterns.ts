// The date formats tried when a filter names none: what PBX daemons and syslog write, most common first.

/**
 * Each entry is a fail2ban datepattern. Order matters only between templates matching at the same place:
 * the detector prefers the match nearest the line start, then the earlier entry.
 */
export const DEFAULT_DATE_PATTERNS: readonly string[] = [
  // ISO and friends: 2024-11-21 23:45:38, 2024-11-21T23:45:38.123456+01:00, 2024-11-21 23:45:38,123,
  // FreeSWITCH's 2024-11-21 23:45:38.123456, syslog-ng's 2024.11.21 23:45:38, 2024/11/21 23:45:38.
  "%ExY[-/.]%m[-/.]%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\\s*%z)?",
  // syslog and Asterisk: Nov 21 23:45:38, Nov  1 01:02:03, Thu Nov 21 23:45:38 2024, with sub-seconds.
  "(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
  "(?:%a )?%b %d %ExY %k:%M:%S(?:\\.%f)?",
  // Apache/CLF: 21/Nov/2024:23:45:38 +0000; named: 21-Nov-2024 23:45:38.123
  "%d[-/]%b[-/]%ExY[ :]?%H:%M:%S(?:\\.%f)?(?: %z)?",
  // 21/11/2024 23:45:38, 21-11-24 23:45:38
  "%d[-/]%m[-/](?:%ExY|%Exy) %k:%M:%S",
  // CPanel 11/21/2024:23:45:38
  "%m/%d/%ExY:%H:%M:%S",
  // 11-21-2024 23:45:38.123
  "%m-%d-%ExY %k:%M:%S(?:\\.%f)?",
  // Compact: 20241121T234538, 20241121 234538
  "%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\\s*%z)?",
  // Tomcat: Nov 21, 2024 11:45:38 PM
  "%b %d, %ExY %I:%M:%S %p",
  // syslog with a zone in front (monit): [PDT Apr 16 21:05:29], [CEST Aug  6 10:14:52], +02:00 Aug 6 ...
  "(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
  "(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\\.%f)?(?: %ExY)?",
  // MySQL 5: 130324  0:04:00, 130324 17:56:13
  "%Exy%Exm%Exd  ?%H:%M:%S",
  // <11/21/24@23:45:38>; ASSP: Nov-21-24 23:45:38
  "^<%m/%d/%Exy@%H:%M:%S>",
  "^%b-%d-%Exy %k:%M:%S",
  "EPOCH",
  "TAI64N",
  // Only a time of day, at line start.
  "{^LN-BEG}%H:%M:%S",
];

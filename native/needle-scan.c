// needle-scan: finds, in a block of whole log lines, the lines holding any of up to 31 byte strings
// ("needles"), with WebAssembly SIMD. Built to src/sources/needle-scan-wasm.ts by scripts/build-wasm.sh;
// used by src/sources/needle-scan.ts (which documents the memory layout and the contract).
//
// Per 16 bytes: one compare for newlines, and Teddy's fingerprint test (Langdale's algorithm, as in
// Hyperscan and Rust's aho-corasick): each needle is found by three adjacent bytes the caller chose as
// rare (two for a two-byte needle), looked up by nibble with six byte shuffles for all needles at once, in
// up to 8 buckets; a candidate place is then confirmed byte by byte against its bucket's needles. 64 bytes
// without a candidate are passed over whole, their lines counted by popcount. A line is reported when it holds a
// needle or is longer than `cap`, with the bitmask of the needles it holds, its start, the offset of its
// '\n' and its index among the block's lines.

#include <stdint.h>
#include <wasm_simd128.h>

#define MAX_NEEDLES 31
#define LONG_LINE_BIT 0x80000000u
#define NEEDLE_BYTES 4096

static uint8_t needle_bytes[NEEDLE_BYTES];
static uint32_t needle_off[MAX_NEEDLES];
static uint32_t needle_len[MAX_NEEDLES];
static uint32_t finger_off[MAX_NEEDLES];
static uint32_t n_needles;
static uint32_t newline_count;
// Teddy-style fingerprint tables: for the fingerprint's first, second and third byte, per low and high nibble,
// the buckets (bits) holding a needle whose fingerprint byte has that nibble; and each bucket's needles.
static uint8_t lo0[16], hi0[16], lo1[16], hi1[16], lo2[16], hi2[16];
static uint32_t bucket_needles[8];

extern uint8_t __heap_base;

__attribute__((export_name("needle_area"))) uint8_t *needle_area(void) { return needle_bytes; }

__attribute__((export_name("heap_start"))) uint8_t *heap_start(void) {
  uintptr_t p = (uintptr_t)&__heap_base;
  return (uint8_t *)((p + 63) & ~(uintptr_t)63);
}

__attribute__((export_name("clear_needles"))) void clear_needles(void) {
  n_needles = 0;
  for (int i = 0; i < 16; i++) lo0[i] = hi0[i] = lo1[i] = hi1[i] = lo2[i] = hi2[i] = 0;
  for (int b = 0; b < 8; b++) bucket_needles[b] = 0;
}

/**
 * Adds the needle at needle_area()[off, off + len) (len >= 2), found by its three bytes from `finger` (its
 * two when len is 2, then `finger` must be 0), into bucket `bucket` (0-7); returns 0 when refused. Called
 * again after clear_needles to choose other fingerprints.
 */
__attribute__((export_name("add_needle"))) uint32_t add_needle(uint32_t off, uint32_t len, uint32_t finger,
                                                               uint32_t bucket) {
  if (n_needles >= MAX_NEEDLES || len < 2 || off + len > NEEDLE_BYTES || finger + 1 >= len || (len > 2 && finger + 2 >= len) || bucket > 7) return 0;
  const uint8_t *nd = needle_bytes + off;
  const uint8_t bit = (uint8_t)(1u << bucket);
  lo0[nd[finger] & 15] |= bit;
  hi0[nd[finger] >> 4] |= bit;
  lo1[nd[finger + 1] & 15] |= bit;
  hi1[nd[finger + 1] >> 4] |= bit;
  if (len > 2) {
    lo2[nd[finger + 2] & 15] |= bit;
    hi2[nd[finger + 2] >> 4] |= bit;
  } else {
    // A two-byte needle has no third fingerprint byte: any byte passes for its bucket.
    for (int i = 0; i < 16; i++) {
      lo2[i] |= bit;
      hi2[i] |= bit;
    }
  }
  bucket_needles[bucket] |= 1u << n_needles;
  needle_off[n_needles] = off;
  needle_len[n_needles] = len;
  finger_off[n_needles] = finger;
  n_needles++;
  return 1;
}

// Trigram counts of a sample, by a multiplicative hash of the three bytes (the caller hashes its needles'
// trigrams the same way: ((a << 16 | b << 8 | c) * 0x9e3779b1) >> (32 - TRIGRAM_BITS)).
#define TRIGRAM_BITS 16
static uint32_t trigram_counts[1u << TRIGRAM_BITS];

__attribute__((export_name("trigram_table"))) uint32_t *trigram_table(void) { return trigram_counts; }

/** Counts the trigrams of buf[0, n) into trigram_table(), cleared first. */
__attribute__((export_name("count_trigrams"))) void count_trigrams(const uint8_t *buf, uint32_t n) {
  for (uint32_t i = 0; i < (1u << TRIGRAM_BITS); i++) trigram_counts[i] = 0;
  for (uint32_t i = 0; i + 3 <= n; i++) {
    const uint32_t t = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | (uint32_t)buf[i + 2];
    trigram_counts[(t * 0x9e3779b1u) >> (32 - TRIGRAM_BITS)]++;
  }
}

/** Newlines seen by the last scan. */
__attribute__((export_name("newlines"))) uint32_t newlines(void) { return newline_count; }

static int same(const uint8_t *p, const uint8_t *q, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (p[i] != q[i]) return 0;
  return 1;
}

// The scan's state between blocks of 16 bytes.
struct state {
  uint32_t reported, line_start, line_idx, line_mask, cap, out_max, full;
  uint32_t *__restrict out;
};

/** Ends the current line at `end` (its '\n'): reports it when it holds a needle or is overlong. */
static inline void end_line(struct state *st, uint32_t end) {
  const uint32_t mask = st->line_mask | (end - st->line_start > st->cap ? LONG_LINE_BIT : 0u);
  if (mask != 0) {
    if (st->reported == st->out_max) {
      st->full = 1;
      return;
    }
    uint32_t *e = st->out + 4 * st->reported++;
    e[0] = st->line_start;
    e[1] = end;
    e[2] = mask;
    e[3] = st->line_idx;
  }
  st->line_idx++;
  st->line_start = end + 1;
  st->line_mask = 0;
}

/** Fingerprint candidates in the 16 bytes at q, one byte of `m` per place: the buckets that may start there. */
static inline v128_t fingerprints(const uint8_t *q, v128_t nib, v128_t l0, v128_t h0, v128_t l1, v128_t h1, v128_t l2,
                                  v128_t h2) {
  const v128_t v = wasm_v128_load(q), w = wasm_v128_load(q + 1), x = wasm_v128_load(q + 2);
  const v128_t m0 = wasm_v128_and(wasm_i8x16_swizzle(l0, wasm_v128_and(v, nib)), wasm_i8x16_swizzle(h0, wasm_u8x16_shr(v, 4)));
  const v128_t m1 = wasm_v128_and(wasm_i8x16_swizzle(l1, wasm_v128_and(w, nib)), wasm_i8x16_swizzle(h1, wasm_u8x16_shr(w, 4)));
  const v128_t m2 = wasm_v128_and(wasm_i8x16_swizzle(l2, wasm_v128_and(x, nib)), wasm_i8x16_swizzle(h2, wasm_u8x16_shr(x, 4)));
  return wasm_v128_and(wasm_v128_and(m0, m1), m2);
}

static inline uint32_t newline_bits(const uint8_t *q) {
  return (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(q), wasm_i8x16_splat('\n')));
}

/**
 * The 16 bytes at buf + p, of which the first `valid` (bitmask) count, with their fingerprint candidates
 * `m`: confirms the candidates and ends the lines whose '\n' is there.
 */
static inline void block(struct state *st, const uint8_t *buf, uint32_t n, uint32_t p, uint32_t valid, v128_t m) {
  uint32_t at_needles[16];
  uint8_t buckets[16];
  const uint32_t nlm = newline_bits(buf + p) & valid;
  uint32_t hits = 0;
  if (wasm_v128_any_true(m)) {
    uint32_t cand = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_ne(m, wasm_i8x16_splat(0))) & valid;
    wasm_v128_store(buckets, m);
    while (cand) {
      const uint32_t bit = (uint32_t)__builtin_ctz(cand);
      cand &= cand - 1;
      uint32_t bs = buckets[bit];
      while (bs) {
        const uint32_t b = (uint32_t)__builtin_ctz(bs);
        bs &= bs - 1;
        uint32_t js = bucket_needles[b];
        while (js) {
          const uint32_t j = (uint32_t)__builtin_ctz(js);
          js &= js - 1;
          const uint32_t at = p + bit;
          if (at < finger_off[j]) continue;
          const uint32_t s = at - finger_off[j];
          if (s + needle_len[j] <= n && same(buf + s, needle_bytes + needle_off[j], needle_len[j])) {
            if (!(hits & (1u << bit))) at_needles[bit] = 0;
            hits |= 1u << bit;
            at_needles[bit] |= 1u << j;
          }
        }
      }
    }
  }
  uint32_t events = nlm | hits;
  while (events && !st->full) {
    const uint32_t bit = (uint32_t)__builtin_ctz(events);
    events &= events - 1;
    if (hits & (1u << bit)) st->line_mask |= at_needles[bit];
    if (nlm & (1u << bit)) end_line(st, p + bit);
  }
}

/**
 * Ends the lines whose '\n' bits are set in `nls` (bit i: offset p + i, at most `last` + 1 bits) where
 * no needle starts: the first may hold a needle seen earlier or be overlong; the others began after p,
 * so are shorter than the block, never overlong when cap >= 64, and are only counted.
 */
static inline void newlines_only(struct state *st, uint32_t p, uint64_t nls, uint32_t last) {
  end_line(st, p + (uint32_t)__builtin_ctzll(nls));
  if (st->full) return;
  const uint32_t more = (uint32_t)__builtin_popcountll(nls) - 1;
  st->line_idx += more;
  if (more) st->line_start = p + last - (uint32_t)__builtin_clzll(nls << (63 - last)) + 1;
}

/** 16 whole bytes at p in the 64-byte path: confirmed one by one only where a fingerprint matched. */
static inline void sub(struct state *st, const uint8_t *buf, uint32_t n, uint32_t p, v128_t m) {
  if (wasm_v128_any_true(m)) {
    block(st, buf, n, p, 0xffffu, m);
    return;
  }
  const uint32_t nls = newline_bits(buf + p);
  if (nls != 0 && !st->full) newlines_only(st, p, nls, 15);
}

/**
 * Scans buf[0, n): whole lines, each ending in '\n' (bytes after the last '\n' are ignored). The caller
 * leaves at least 64 readable bytes after buf + n. Writes four u32 per reported line to out (start,
 * '\n' offset, needle mask | LONG_LINE_BIT, line index) and returns how many lines it reported, at most
 * out_max.
 *
 * 64 bytes at a time: when none of them is a fingerprint candidate, the lines ending there are counted
 * without a look at each (a line wholly inside 64 bytes is not overlong when cap >= 64).
 */
__attribute__((export_name("scan"))) uint32_t scan(const uint8_t *buf, uint32_t n, uint32_t cap, uint32_t *out,
                                                    uint32_t out_max) {
  const v128_t nib = wasm_i8x16_splat(15);
  const v128_t l0 = wasm_v128_load(lo0), h0 = wasm_v128_load(hi0);
  const v128_t l1 = wasm_v128_load(lo1), h1 = wasm_v128_load(hi1);
  const v128_t l2 = wasm_v128_load(lo2), h2 = wasm_v128_load(hi2);
  struct state st = {0, 0, 0, 0, cap, out_max, 0, out};
  uint32_t p = 0;
  if (cap >= 64) {
    for (; p + 64 <= n && !st.full; p += 64) {
      const v128_t a = fingerprints(buf + p, nib, l0, h0, l1, h1, l2, h2);
      const v128_t b = fingerprints(buf + p + 16, nib, l0, h0, l1, h1, l2, h2);
      const v128_t c = fingerprints(buf + p + 32, nib, l0, h0, l1, h1, l2, h2);
      const v128_t d = fingerprints(buf + p + 48, nib, l0, h0, l1, h1, l2, h2);
      if (wasm_v128_any_true(wasm_v128_or(wasm_v128_or(a, b), wasm_v128_or(c, d)))) {
        sub(&st, buf, n, p, a);
        sub(&st, buf, n, p + 16, b);
        sub(&st, buf, n, p + 32, c);
        sub(&st, buf, n, p + 48, d);
        continue;
      }
      const uint64_t nls = (uint64_t)newline_bits(buf + p) | (uint64_t)newline_bits(buf + p + 16) << 16 |
                           (uint64_t)newline_bits(buf + p + 32) << 32 | (uint64_t)newline_bits(buf + p + 48) << 48;
      if (nls == 0) continue;
      // The first line ending here may hold a needle seen earlier or be overlong; the others began here.
      newlines_only(&st, p, nls, 63);
    }
  }
  for (; p < n && !st.full; p += 16) {
    const uint32_t valid = n - p >= 16 ? 0xffffu : ((1u << (n - p)) - 1u);
    block(&st, buf, n, p, valid, fingerprints(buf + p, nib, l0, h0, l1, h1, l2, h2));
  }
  newline_count = st.line_idx;
  return st.reported;
}

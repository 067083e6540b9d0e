// needle-scan: finds, in a block of whole log lines, the lines holding any of up to 31 byte strings
// ("needles"), with WebAssembly SIMD. Built to src/sources/needle-scan-wasm.ts by scripts/build-wasm.sh;
// used by src/sources/needle-scan.ts (which documents the memory layout and the contract).
//
// Per 16 bytes: one compare for newlines, and Teddy's fingerprint test (Langdale's algorithm, as in
// Hyperscan and Rust's aho-corasick): each needle is found by two adjacent bytes the caller chose as rare,
// looked up by nibble with four byte shuffles for all needles at once, in up to 8 buckets; a candidate
// place is then confirmed byte by byte against its bucket's needles. A line is reported when it holds a
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
// Teddy-style fingerprint tables: for the fingerprint's first and second byte, per low and high nibble,
// the buckets (bits) holding a needle whose fingerprint byte has that nibble; and each bucket's needles.
static uint8_t lo0[16], hi0[16], lo1[16], hi1[16];
static uint32_t bucket_needles[8];

extern uint8_t __heap_base;

__attribute__((export_name("needle_area"))) uint8_t *needle_area(void) { return needle_bytes; }

__attribute__((export_name("heap_start"))) uint8_t *heap_start(void) {
  uintptr_t p = (uintptr_t)&__heap_base;
  return (uint8_t *)((p + 63) & ~(uintptr_t)63);
}

__attribute__((export_name("clear_needles"))) void clear_needles(void) {
  n_needles = 0;
  for (int i = 0; i < 16; i++) lo0[i] = hi0[i] = lo1[i] = hi1[i] = 0;
  for (int b = 0; b < 8; b++) bucket_needles[b] = 0;
}

/**
 * Adds the needle at needle_area()[off, off + len) (len >= 2), found by its two bytes at `finger` and
 * `finger + 1`, into bucket `bucket` (0-7); returns 0 when refused.
 */
__attribute__((export_name("add_needle"))) uint32_t add_needle(uint32_t off, uint32_t len, uint32_t finger,
                                                               uint32_t bucket) {
  if (n_needles >= MAX_NEEDLES || len < 2 || off + len > NEEDLE_BYTES || finger + 1 >= len || bucket > 7) return 0;
  const uint8_t *nd = needle_bytes + off;
  const uint8_t bit = (uint8_t)(1u << bucket);
  lo0[nd[finger] & 15] |= bit;
  hi0[nd[finger] >> 4] |= bit;
  lo1[nd[finger + 1] & 15] |= bit;
  hi1[nd[finger + 1] >> 4] |= bit;
  bucket_needles[bucket] |= 1u << n_needles;
  needle_off[n_needles] = off;
  needle_len[n_needles] = len;
  finger_off[n_needles] = finger;
  n_needles++;
  return 1;
}

/** Newlines seen by the last scan. */
__attribute__((export_name("newlines"))) uint32_t newlines(void) { return newline_count; }

static int same(const uint8_t *p, const uint8_t *q, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (p[i] != q[i]) return 0;
  return 1;
}

/**
 * Scans buf[0, n): whole lines, each ending in '\n' (bytes after the last '\n' are ignored). The caller
 * leaves at least 64 readable bytes after buf + n. Writes four u32 per reported line to out (start,
 * '\n' offset, needle mask | LONG_LINE_BIT, line index) and returns how many lines it reported, at most
 * out_max.
 */
__attribute__((export_name("scan"))) uint32_t scan(const uint8_t *buf, uint32_t n, uint32_t cap, uint32_t *out,
                                                    uint32_t out_max) {
  const v128_t nl = wasm_i8x16_splat('\n');
  const v128_t nib = wasm_i8x16_splat(15);
  const v128_t l0 = wasm_v128_load(lo0), h0 = wasm_v128_load(hi0);
  const v128_t l1 = wasm_v128_load(lo1), h1 = wasm_v128_load(hi1);
  uint32_t reported = 0, line_start = 0, line_idx = 0, line_mask = 0;
  uint32_t at_needles[16];
  uint8_t buckets[16];
  for (uint32_t p = 0; p < n; p += 16) {
    const uint32_t valid = n - p >= 16 ? 0xffffu : ((1u << (n - p)) - 1u);
    const v128_t v = wasm_v128_load(buf + p);
    const v128_t w = wasm_v128_load(buf + p + 1);
    const uint32_t nlm = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(v, nl)) & valid;
    const v128_t m0 = wasm_v128_and(wasm_i8x16_swizzle(l0, wasm_v128_and(v, nib)),
                                    wasm_i8x16_swizzle(h0, wasm_u8x16_shr(v, 4)));
    const v128_t m1 = wasm_v128_and(wasm_i8x16_swizzle(l1, wasm_v128_and(w, nib)),
                                    wasm_i8x16_swizzle(h1, wasm_u8x16_shr(w, 4)));
    const v128_t m = wasm_v128_and(m0, m1);
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
    while (events) {
      const uint32_t bit = (uint32_t)__builtin_ctz(events);
      events &= events - 1;
      if (hits & (1u << bit)) line_mask |= at_needles[bit];
      if (nlm & (1u << bit)) {
        const uint32_t end = p + bit;
        const uint32_t mask = line_mask | (end - line_start > cap ? LONG_LINE_BIT : 0u);
        if (mask != 0) {
          if (reported == out_max) {
            newline_count = line_idx;
            return reported;
          }
          uint32_t *e = out + 4 * reported++;
          e[0] = line_start;
          e[1] = end;
          e[2] = mask;
          e[3] = line_idx;
        }
        line_idx++;
        line_start = end + 1;
        line_mask = 0;
      }
    }
  }
  newline_count = line_idx;
  return reported;
}

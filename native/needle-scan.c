// needle-scan: finds, in a block of whole log lines, the lines holding any of up to 31 byte strings
// ("needles"), with WebAssembly SIMD. Built to src/sources/needle-scan-wasm.ts by scripts/build-wasm.sh;
// used by src/sources/needle-scan.ts (which documents the memory layout and the contract).
//
// Per 16 bytes: one compare for newlines, and per needle two compares at the needle's two rarest bytes
// (anchors chosen by the caller); a candidate place is confirmed byte by byte. A line is reported when it
// holds a needle or is longer than `cap`, with the bitmask of the needles it holds, its start, the offset
// of its '\n' and its index among the block's lines.

#include <stdint.h>
#include <wasm_simd128.h>

#define MAX_NEEDLES 31
#define LONG_LINE_BIT 0x80000000u
#define NEEDLE_BYTES 4096

static uint8_t needle_bytes[NEEDLE_BYTES];
static uint32_t needle_off[MAX_NEEDLES];
static uint32_t needle_len[MAX_NEEDLES];
static uint32_t anchor_a[MAX_NEEDLES];
static uint32_t anchor_b[MAX_NEEDLES];
static uint32_t n_needles;
static uint32_t newline_count;

extern uint8_t __heap_base;

__attribute__((export_name("needle_area"))) uint8_t *needle_area(void) { return needle_bytes; }

__attribute__((export_name("heap_start"))) uint8_t *heap_start(void) {
  uintptr_t p = (uintptr_t)&__heap_base;
  return (uint8_t *)((p + 63) & ~(uintptr_t)63);
}

__attribute__((export_name("clear_needles"))) void clear_needles(void) { n_needles = 0; }

/** Adds the needle at needle_area()[off, off + len) with anchors at offsets a and b; 0 when refused. */
__attribute__((export_name("add_needle"))) uint32_t add_needle(uint32_t off, uint32_t len, uint32_t a, uint32_t b) {
  if (n_needles >= MAX_NEEDLES || len == 0 || off + len > NEEDLE_BYTES || a >= len || b >= len) return 0;
  needle_off[n_needles] = off;
  needle_len[n_needles] = len;
  anchor_a[n_needles] = a;
  anchor_b[n_needles] = b;
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
 * leaves at least 64 + the longest needle's length readable bytes after buf + n. Writes four u32 per
 * reported line to out (start, '\n' offset, needle mask | LONG_LINE_BIT, line index) and returns how
 * many lines it reported, at most out_max.
 */
__attribute__((export_name("scan"))) uint32_t scan(const uint8_t *buf, uint32_t n, uint32_t cap, uint32_t *out,
                                                    uint32_t out_max) {
  const v128_t nl = wasm_i8x16_splat('\n');
  v128_t va[MAX_NEEDLES], vb[MAX_NEEDLES];
  const uint32_t k = n_needles;
  for (uint32_t j = 0; j < k; j++) {
    const uint8_t *nd = needle_bytes + needle_off[j];
    va[j] = wasm_i8x16_splat((int8_t)nd[anchor_a[j]]);
    vb[j] = wasm_i8x16_splat((int8_t)nd[anchor_b[j]]);
  }
  uint32_t reported = 0, line_start = 0, line_idx = 0, line_mask = 0;
  uint32_t at_needles[16];
  for (uint32_t p = 0; p < n; p += 16) {
    uint32_t valid = n - p >= 16 ? 0xffffu : ((1u << (n - p)) - 1u);
    uint32_t nlm = (uint32_t)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(buf + p), nl)) & valid;
    uint32_t hits = 0;
    for (uint32_t j = 0; j < k; j++) {
      v128_t a = wasm_v128_load(buf + p + anchor_a[j]);
      v128_t b = wasm_v128_load(buf + p + anchor_b[j]);
      uint32_t m = (uint32_t)wasm_i8x16_bitmask(wasm_v128_and(wasm_i8x16_eq(a, va[j]), wasm_i8x16_eq(b, vb[j])));
      m &= valid;
      while (m) {
        uint32_t bit = (uint32_t)__builtin_ctz(m);
        m &= m - 1;
        uint32_t s = p + bit;
        if (s + needle_len[j] <= n && same(buf + s, needle_bytes + needle_off[j], needle_len[j])) {
          if (!(hits & (1u << bit))) at_needles[bit] = 0;
          hits |= 1u << bit;
          at_needles[bit] |= 1u << j;
        }
      }
    }
    uint32_t events = nlm | hits;
    while (events) {
      uint32_t bit = (uint32_t)__builtin_ctz(events);
      events &= events - 1;
      if (hits & (1u << bit)) line_mask |= at_needles[bit];
      if (nlm & (1u << bit)) {
        uint32_t end = p + bit;
        uint32_t mask = line_mask | (end - line_start > cap ? LONG_LINE_BIT : 0u);
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

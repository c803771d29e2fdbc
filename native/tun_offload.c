/*
 * TUN offloads over the virtio-net header (IFF_VNET_HDR): TSO segmentation on read and TCP
 * coalescing (GRO) on write. This is where a TCP stream through the tunnel stops paying the
 * kernel's per-packet cost on both ends.
 *
 * Read (Linux -> tunnel), readBatchGso:
 *   1. With TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6 set, the kernel hands us frames of up to 64 KiB:
 *      a TCP super-segment (gso_type TCPV4/TCPV6, gso_size = MSS), or one packet whose L4
 *      checksum is still to be filled (flags NEEDS_CSUM: the field holds the pseudo-header sum).
 *   2. A frame is read with readv into [header][the offered slot][carry]: a frame that fits the
 *      slot lands in place (no copy); a larger one continues in the carry and is made contiguous.
 *   3. A super-segment is cut into MSS packets, one per offered slot, exactly as the kernel's
 *      software GSO would: IPv4 total length, ID + k and header checksum; IPv6 payload length;
 *      TCP sequence + k*MSS, FIN/PSH only on the last, CWR only on the first, full checksum.
 *      Segments that do not fit the remaining slots stay in the carry for the next call.
 *   4. A frame we cannot parse (not IPv4/IPv6 TCP under GSO, offsets past the end) is dropped
 *      and counted; a plain frame larger than its slot is posted with length 0 (Ignore).
 *
 * Write (tunnel -> Linux), writeBatchGro:
 *   1. Consecutive TCP segments of one flow (same addresses, ports, TOS/TTL or traffic class/hop
 *      limit, ACK, window and options; sequence numbers and IPv4 IDs contiguous; flags ACK or ACK|PSH; equal
 *      payload sizes, the last may be shorter) are merged, up to 64 KiB, the rules of the
 *      kernel's own tcp_gro_receive. Up to GRO_FLOWS flows are open at once.
 *   2. Each segment's TCP checksum is verified first (the kernel will not look at it again:
 *      the merged frame goes up as CHECKSUM_PARTIAL); a bad one is written alone, unmerged.
 *   3. A merged flow is one writev: [virtio header + rewritten IP/TCP header][payload 1]...
 *      with gso_type TCPV4/TCPV6 and the TCP checksum field set to the pseudo-header sum.
 *      Anything else (UDP, ICMP, SYN/FIN/RST, a lone segment) is written alone with a zero
 *      header. Packets of one flow keep their order; different flows may be reordered.
 *   4. Results go to a counter array, not the return value: written packets and bytes, drops
 *      (EAGAIN/ENOBUFS), errors; a fatal errno (EBADF) throws.
 *
 * Both also run against memory (segmentFrame, coalesce) so tests can compare every byte with a
 * model without a device. All arithmetic on packet fields is bounds-checked against the frame.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tun_offload.c assumes a little-endian host (virtio-net legacy header byte order)"
#endif

#define VNET_HDR_LEN 10
#define VNET_F_NEEDS_CSUM 1
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80
#define MAX_FRAME 65535u
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80
#define GRO_FLOWS 8
#define GRO_MAX_SEGS 64

typedef struct {
  uint8_t flags, gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
} vnet_hdr;

static void vnet_parse(const uint8_t *p, vnet_hdr *h) {
  h->flags = p[0];
  h->gso_type = p[1];
  h->hdr_len = (uint16_t)(p[2] | p[3] << 8);
  h->gso_size = (uint16_t)(p[4] | p[5] << 8);
  h->csum_start = (uint16_t)(p[6] | p[7] << 8);
  h->csum_offset = (uint16_t)(p[8] | p[9] << 8);
}

static void vnet_write(uint8_t *p, const vnet_hdr *h) {
  p[0] = h->flags;
  p[1] = h->gso_type;
  p[2] = (uint8_t)h->hdr_len, p[3] = (uint8_t)(h->hdr_len >> 8);
  p[4] = (uint8_t)h->gso_size, p[5] = (uint8_t)(h->gso_size >> 8);
  p[6] = (uint8_t)h->csum_start, p[7] = (uint8_t)(h->csum_start >> 8);
  p[8] = (uint8_t)h->csum_offset, p[9] = (uint8_t)(h->csum_offset >> 8);
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/*
 * One's-complement sum in host (little-endian) word order: the folded result, stored back with
 * memcpy, is the network-order checksum. Big-endian 16-bit values are added as bswap16(v).
 */
static uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + 4, 4);
    acc += (uint64_t)a + b;
    p += 8, n -= 8;
  }
  if (n >= 4) {
    uint32_t a;
    memcpy(&a, p, 4);
    acc += a;
    p += 4, n -= 4;
  }
  if (n >= 2) {
    uint16_t a;
    memcpy(&a, p, 2);
    acc += a;
    p += 2, n -= 2;
  }
  if (n) acc += p[0];
  return acc;
}

static inline uint16_t csum_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}

static inline uint64_t add_be16(uint64_t acc, uint16_t v) { return acc + __builtin_bswap16(v); }

/* Pseudo-header sum for TCP over IPv4 (addresses at ip+12) or IPv6 (ip+8), L4 length `len`. */
static uint64_t pseudo_sum(const uint8_t *ip, int v6, uint32_t len) {
  uint64_t acc = v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
  acc = add_be16(acc, 6);
  acc = add_be16(acc, (uint16_t)(len >> 16));
  return add_be16(acc, (uint16_t)len);
}

static void ipv4_fix_csum(uint8_t *ip, uint32_t ihl) {
  ip[10] = ip[11] = 0;
  uint16_t c = (uint16_t)~csum_fold(csum_add(0, ip, ihl));
  memcpy(ip + 10, &c, 2);
}

/* Header length (IP + TCP) of a TCP packet whose TCP header starts at l4, or 0 if it does not fit. */
static uint32_t tcp_headers_end(const uint8_t *p, uint32_t l4, uint32_t len) {
  if (l4 + 20 > len) return 0;
  uint32_t thl = (uint32_t)(p[l4 + 12] >> 4) * 4;
  return thl < 20 || l4 + thl > len ? 0 : l4 + thl;
}

/* ---- read side: segmentation --------------------------------------------------------------- */

typedef struct {
  uint32_t l4, hl, mss, payload, nseg;
  int v6;
} gso_plan;

/* Validates a TCP super-segment (frame = IP packet of flen bytes); 0 if it can be cut. */
static int gso_plan_make(const uint8_t *f, uint32_t flen, const vnet_hdr *h, gso_plan *g) {
  int type = h->gso_type & ~VNET_GSO_ECN;
  if (flen < 20 || h->gso_size == 0) return -1;
  if (type == VNET_GSO_TCPV4) {
    if (f[0] >> 4 != 4 || f[9] != 6) return -1;
    g->l4 = (uint32_t)(f[0] & 15) * 4;
    g->v6 = 0;
    if (g->l4 < 20) return -1;
  } else if (type == VNET_GSO_TCPV6) {
    if (flen < 40 || f[0] >> 4 != 6 || f[6] != 6) return -1; /* no extension headers */
    g->l4 = 40;
    g->v6 = 1;
  } else {
    return -1;
  }
  g->hl = tcp_headers_end(f, g->l4, flen);
  if (g->hl == 0) return -1;
  g->mss = h->gso_size;
  g->payload = flen - g->hl;
  g->nseg = g->payload == 0 ? 1 : (g->payload + g->mss - 1) / g->mss;
  return 0;
}

/* Writes segment k of the plan into dst (cap bytes); returns its length, 0 if it does not fit. */
static uint32_t gso_emit(const uint8_t *f, const gso_plan *g, uint32_t k, uint8_t *dst, uint32_t cap) {
  uint32_t start = k * g->mss;
  uint32_t plen = g->payload - start < g->mss ? g->payload - start : g->mss;
  uint32_t len = g->hl + plen;
  if (len > cap) return 0;
  memcpy(dst, f, g->hl);
  memcpy(dst + g->hl, f + g->hl + start, plen);
  uint8_t *t = dst + g->l4;
  if (g->v6) {
    put16(dst + 4, (uint16_t)(len - 40));
  } else {
    put16(dst + 2, (uint16_t)len);
    put16(dst + 4, (uint16_t)(be16(f + 4) + k));
    ipv4_fix_csum(dst, g->l4);
  }
  put32(t + 4, be32(f + g->l4 + 4) + start);
  if (k + 1 < g->nseg) t[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
  if (k > 0) t[13] &= (uint8_t)~TCP_CWR;
  t[16] = t[17] = 0;
  uint64_t acc = pseudo_sum(dst, g->v6, len - g->l4);
  uint16_t c = (uint16_t)~csum_fold(csum_add(acc, t, len - g->l4));
  memcpy(t + 16, &c, 2);
  return len;
}

/* Fills a NEEDS_CSUM packet's checksum in place; -1 if the offsets are outside the packet. */
static int csum_complete(uint8_t *p, uint32_t len, const vnet_hdr *h) {
  if (!(h->flags & VNET_F_NEEDS_CSUM)) return 0;
  if ((uint32_t)h->csum_start + h->csum_offset + 2 > len) return -1;
  uint16_t c = (uint16_t)~csum_fold(csum_add(0, p + h->csum_start, len - h->csum_start));
  memcpy(p + h->csum_start + h->csum_offset, &c, 2);
  return 0;
}

/* Carry state, a Uint32Array shared with JS: */
enum {
  C_LEN,       /* bytes of the pending frame in the carry (after its header); 0 = none */
  C_NEXT,      /* next segment index */
  C_HDR,       /* its virtio header, packed: gso_size << 16 | gso_type */
  C_DROPPED,   /* frames dropped as unparseable (cumulative) */
  C_SUPER,     /* super-segments read (cumulative) */
  C_SEGMENTS,  /* packets cut from them (cumulative) */
  C_TRUNCATED, /* plain frames larger than their slot, posted as Ignore (cumulative) */
  C_WORDS
};
#define CARRY_DATA VNET_HDR_LEN /* the frame starts after a header's worth of bytes */

typedef struct {
  uint8_t *slab;
  uint32_t *off, *cap, *len, max;
  uint8_t *carry;
  size_t carry_len;
  uint32_t *st;
} seg_args;

/* Emits pending segments from the carry into slots [*i, max); leaves the carry empty when done. */
static void drain_carry(seg_args *a, uint32_t *i) {
  if (a->st[C_LEN] == 0) return;
  vnet_hdr h = {0};
  h.gso_type = (uint8_t)a->st[C_HDR];
  h.gso_size = (uint16_t)(a->st[C_HDR] >> 16);
  gso_plan g;
  const uint8_t *f = a->carry + CARRY_DATA;
  if (gso_plan_make(f, a->st[C_LEN], &h, &g) < 0) {
    a->st[C_LEN] = 0;
    a->st[C_DROPPED]++;
    return;
  }
  while (*i < a->max && a->st[C_NEXT] < g.nseg) {
    uint32_t n = gso_emit(f, &g, a->st[C_NEXT]++, a->slab + a->off[*i], a->cap[*i]);
    if (n == 0) a->st[C_TRUNCATED]++; /* slot smaller than a segment: posted as Ignore */
    else a->st[C_SEGMENTS]++;
    a->len[(*i)++] = n;
  }
  if (a->st[C_NEXT] >= g.nseg) a->st[C_LEN] = 0;
}

/*
 * Takes one frame (header at hdr, first `inslot` bytes already in slot i, the rest in the carry
 * after its first slot-size bytes) and turns it into slot contents. Returns 1 if slot i was used.
 */
static int take_frame(seg_args *a, uint32_t i, const uint8_t *hdr, uint32_t flen) {
  vnet_hdr h;
  vnet_parse(hdr, &h);
  uint8_t *slot = a->slab + a->off[i];
  uint32_t cap = a->cap[i];
  if ((h.gso_type & ~VNET_GSO_ECN) == VNET_GSO_NONE) {
    if (flen > cap) { /* cut short by the slot: an Ignore packet, as before offloads */
      a->st[C_TRUNCATED]++;
      a->len[i] = 0;
      return 1;
    }
    if (csum_complete(slot, flen, &h) < 0) {
      a->st[C_DROPPED]++;
      return 0;
    }
    a->len[i] = flen;
    return 1;
  }
  /* A super-segment: make it contiguous in the carry (slot part first), then cut. */
  uint8_t *f = a->carry + CARRY_DATA;
  memcpy(f, slot, flen < cap ? flen : cap); /* the tail already sits at f + cap */
  a->st[C_LEN] = flen;
  a->st[C_NEXT] = 0;
  a->st[C_HDR] = (uint32_t)h.gso_size << 16 | h.gso_type;
  a->st[C_SUPER]++;
  return 0;
}

/* readBatchGso(fd, slab, offsets, capacities, lengths, max, carry, state) -> count */
static napi_value tun_read_batch_gso(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  size_t slab_len, n_off, n_cap, n_len, n_st;
  int fd;
  seg_args a;
  if (get_args(env, info, 8, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u8(env, argv[1], "slab", &a.slab, &slab_len) < 0 ||
      get_u32arr(env, argv[2], "offsets", &a.off, &n_off) < 0 ||
      get_u32arr(env, argv[3], "capacities", &a.cap, &n_cap) < 0 ||
      get_u32arr(env, argv[4], "lengths", &a.len, &n_len) < 0 || get_u32(env, argv[5], "max", &a.max) < 0 ||
      get_u8(env, argv[6], "carry", &a.carry, &a.carry_len) < 0 ||
      get_u32arr(env, argv[7], "state", &a.st, &n_st) < 0)
    return NULL;
  if (a.max > n_off || a.max > n_cap || a.max > n_len)
    return throw_arg(env, ERR_ARG, "max: %u exceeds the length of offsets/capacities/lengths", a.max), NULL;
  if (n_st < C_WORDS) return throw_arg(env, ERR_ARG, "state: expected at least %d words", C_WORDS), NULL;
  for (uint32_t i = 0; i < a.max; i++) {
    if (!range_ok(a.off[i], a.cap[i], slab_len))
      return throw_arg(env, ERR_ARG, "slot %u: offset %u + %u is past the slab (%zu bytes)", i, a.off[i],
                       a.cap[i], slab_len), NULL;
    if (a.cap[i] > MAX_FRAME) return throw_arg(env, ERR_ARG, "slot %u: capacity above 65535", i), NULL;
  }
  if (a.carry_len < CARRY_DATA + 2 * (size_t)MAX_FRAME)
    return throw_arg(env, ERR_ARG, "carry: expected at least %u bytes", CARRY_DATA + 2 * MAX_FRAME), NULL;
  if (a.st[C_LEN] > MAX_FRAME) a.st[C_LEN] = 0;

  uint32_t i = 0;
  drain_carry(&a, &i);
  while (i < a.max) {
    uint8_t hdr[VNET_HDR_LEN];
    uint32_t cap = a.cap[i];
    struct iovec iov[3] = {
        {hdr, VNET_HDR_LEN},
        {a.slab + a.off[i], cap},
        {a.carry + CARRY_DATA + cap, MAX_FRAME},
    };
    ssize_t r;
    int tries = 0;
    while ((r = readv(fd, iov, 3)) < 0 && errno == EINTR && ++tries < 8) {
    }
    if (r < 0) {
      if (i > 0 && !errno_is_fatal(errno)) break;
      return io_error(env, errno, "readv");
    }
    if (r < VNET_HDR_LEN + 1) {
      a.st[C_DROPPED]++;
      continue;
    }
    uint32_t flen = (uint32_t)r - VNET_HDR_LEN;
    if (take_frame(&a, i, hdr, flen)) i++;
    else drain_carry(&a, &i);
  }
  return make_i32(env, (int32_t)i);
}

/* segmentFrame(frame, slab, offsets, capacities, lengths, max, carry, state) -> count: the read
 * path's cutting, fed from memory (frame = virtio header + packet) instead of the device. A frame
 * of just a header only drains the carry. */
static napi_value tun_segment_frame(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  uint8_t *frame;
  size_t frame_len, slab_len, n_off, n_cap, n_len, n_st;
  seg_args a;
  if (get_args(env, info, 8, argv) < 0 || get_u8(env, argv[0], "frame", &frame, &frame_len) < 0 ||
      get_u8(env, argv[1], "slab", &a.slab, &slab_len) < 0 ||
      get_u32arr(env, argv[2], "offsets", &a.off, &n_off) < 0 ||
      get_u32arr(env, argv[3], "capacities", &a.cap, &n_cap) < 0 ||
      get_u32arr(env, argv[4], "lengths", &a.len, &n_len) < 0 || get_u32(env, argv[5], "max", &a.max) < 0 ||
      get_u8(env, argv[6], "carry", &a.carry, &a.carry_len) < 0 ||
      get_u32arr(env, argv[7], "state", &a.st, &n_st) < 0)
    return NULL;
  if (a.max > n_off || a.max > n_cap || a.max > n_len || n_st < C_WORDS ||
      a.carry_len < CARRY_DATA + 2 * (size_t)MAX_FRAME || frame_len < VNET_HDR_LEN ||
      frame_len - VNET_HDR_LEN > MAX_FRAME)
    return throw_arg(env, ERR_ARG, "segmentFrame: bad sizes"), NULL;
  for (uint32_t i = 0; i < a.max; i++)
    if (!range_ok(a.off[i], a.cap[i], slab_len) || a.cap[i] > MAX_FRAME)
      return throw_arg(env, ERR_ARG, "slot %u: outside the slab", i), NULL;
  uint32_t i = 0;
  drain_carry(&a, &i);
  if (a.st[C_LEN] != 0 || i >= a.max || frame_len == VNET_HDR_LEN) return make_i32(env, (int32_t)i);
  /* Scatter like readv would: the slot first, the rest into the carry after a slot's worth. */
  uint32_t flen = (uint32_t)(frame_len - VNET_HDR_LEN), cap = a.cap[i];
  uint32_t head = flen < cap ? flen : cap;
  memcpy(a.slab + a.off[i], frame + VNET_HDR_LEN, head);
  if (flen > cap) memcpy(a.carry + CARRY_DATA + cap, frame + VNET_HDR_LEN + cap, flen - cap);
  if (take_frame(&a, i, frame, flen)) i++;
  else drain_carry(&a, &i);
  return make_i32(env, (int32_t)i);
}

/* ---- write side: coalescing ---------------------------------------------------------------- */

typedef struct {
  const uint8_t *p; /* first packet */
  uint32_t l4, hl, gso, bytes, next_seq, nseg, ip_bytes; /* ip_bytes: the packets' own lengths */
  int v6, closed, psh;
  struct iovec iov[GRO_MAX_SEGS + 1];
  uint8_t hdr[VNET_HDR_LEN + 60 + 60];
} gro_flow;

typedef struct {
  int fd;            /* -1: collect into out instead */
  uint8_t *out;      /* coalesce(): frames laid end to end */
  size_t out_len, out_used;
  uint32_t *out_lens, out_max, out_n;
  uint32_t *ctr;     /* counters, see W_* */
  int fatal;         /* errno that makes the fd unusable */
  gro_flow flows[GRO_FLOWS];
  uint8_t order[GRO_FLOWS]; /* open flows' slots, oldest first */
  uint32_t nflows;
} gro_ctx;

enum { W_PACKETS, W_BYTES, W_DROPS, W_ERRORS, W_MERGED_WRITES, W_MERGED_PACKETS, W_BAD_CSUM, W_WORDS };

/* Sends one frame (iov[0] = virtio header + ...) carrying `pkts` packets of `bytes` in all. */
static void gro_send(gro_ctx *c, struct iovec *iov, int n, uint32_t pkts, uint32_t bytes) {
  if (c->fatal) return;
  if (c->fd < 0) {
    size_t total = 0;
    for (int k = 0; k < n; k++) total += iov[k].iov_len;
    if (c->out_n >= c->out_max || c->out_used + total > c->out_len) {
      c->ctr[W_DROPS] += pkts;
      return;
    }
    for (int k = 0; k < n; k++) {
      memcpy(c->out + c->out_used, iov[k].iov_base, iov[k].iov_len);
      c->out_used += iov[k].iov_len;
    }
    c->out_lens[c->out_n++] = (uint32_t)total;
  } else {
    ssize_t r;
    int tries = 0;
    while ((r = writev(c->fd, iov, n)) < 0 && errno == EINTR && ++tries < 8) {
    }
    if (r < 0) {
      if (errno_is_fatal(errno)) c->fatal = errno;
      else if (errno == EAGAIN || errno == ENOBUFS || errno == ENOMEM) c->ctr[W_DROPS] += pkts;
      else c->ctr[W_ERRORS] += pkts;
      return;
    }
  }
  c->ctr[W_PACKETS] += pkts;
  c->ctr[W_BYTES] += bytes;
  if (pkts > 1) {
    c->ctr[W_MERGED_WRITES]++;
    c->ctr[W_MERGED_PACKETS] += pkts;
  }
}

static void send_plain(gro_ctx *c, const uint8_t *p, uint32_t len) {
  static const uint8_t zero[VNET_HDR_LEN];
  struct iovec iov[2] = {{(void *)zero, VNET_HDR_LEN}, {(void *)p, len}};
  gro_send(c, iov, 2, 1, len);
}

static void flow_flush(gro_ctx *c, gro_flow *f) {
  if (f->nseg == 1) {
    send_plain(c, f->p, f->hl + f->bytes);
  } else {
    uint32_t total = f->hl + f->bytes;
    uint8_t *ip = f->hdr + VNET_HDR_LEN, *t = ip + f->l4;
    vnet_hdr h = {VNET_F_NEEDS_CSUM, f->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, (uint16_t)f->hl,
                  (uint16_t)f->gso, (uint16_t)f->l4, 16};
    vnet_write(f->hdr, &h);
    memcpy(ip, f->p, f->hl);
    if (f->v6) {
      put16(ip + 4, (uint16_t)(total - 40));
    } else {
      put16(ip + 2, (uint16_t)total);
      ipv4_fix_csum(ip, f->l4);
    }
    if (f->psh) t[13] |= TCP_PSH;
    uint16_t ps = csum_fold(pseudo_sum(ip, f->v6, total - f->l4));
    memcpy(t + 16, &ps, 2);
    f->iov[0].iov_base = f->hdr;
    f->iov[0].iov_len = VNET_HDR_LEN + f->hl;
    gro_send(c, f->iov, (int)f->nseg + 1, f->nseg, f->ip_bytes);
  }
}

/* Flushes the k-th open flow (by age) and frees its slot, keeping the others in order. */
static void flow_close(gro_ctx *c, uint32_t k) {
  uint8_t slot = c->order[k];
  flow_flush(c, &c->flows[slot]);
  c->nflows--;
  memmove(c->order + k, c->order + k + 1, c->nflows - k);
  c->order[c->nflows] = slot;
}

typedef struct {
  uint32_t l4, hl, payload;
  int v6, mergeable;
} tcp_view;

/* Parses p as IPv4/IPv6 TCP; returns 0 and fills v, or -1 for anything else. */
static int tcp_parse(const uint8_t *p, uint32_t len, tcp_view *v) {
  if (len < 20) return -1;
  if (p[0] >> 4 == 4) {
    uint32_t ihl = (uint32_t)(p[0] & 15) * 4;
    if (p[9] != 6 || ihl < 20 || be16(p + 2) != len) return -1;
    v->l4 = ihl;
    v->v6 = 0;
    v->mergeable = ihl == 20 && (be16(p + 6) & 0x3fff) == 0; /* no options, not a fragment */
  } else if (p[0] >> 4 == 6) {
    if (len < 40 || p[6] != 6 || (uint32_t)be16(p + 4) + 40 != len) return -1;
    v->l4 = 40;
    v->v6 = 1;
    v->mergeable = 1;
  } else {
    return -1;
  }
  v->hl = tcp_headers_end(p, v->l4, len);
  if (v->hl == 0) return -1;
  v->payload = len - v->hl;
  uint8_t fl = p[v->l4 + 13];
  if (v->payload == 0 || (fl & ~TCP_PSH) != TCP_ACK) v->mergeable = 0;
  return 0;
}

static int same_flow(const uint8_t *a, const uint8_t *b, int v6, uint32_t l4) {
  return v6 ? memcmp(a + 8, b + 8, 32) == 0 && memcmp(a + l4, b + l4, 4) == 0
            : memcmp(a + 12, b + 12, 8) == 0 && memcmp(a + l4, b + l4, 4) == 0;
}

/* Can packet p (view v) follow flow f? Same rules as the kernel's tcp_gro_receive. */
static int can_append(const gro_flow *f, const uint8_t *p, const tcp_view *v) {
  const uint8_t *q = f->p;
  if (f->closed || f->nseg >= GRO_MAX_SEGS || v->hl != f->hl || v->payload > f->gso) return 0;
  if (f->hl + f->bytes + v->payload > MAX_FRAME) return 0;
  if (v->v6) {
    if (memcmp(p, q, 4) != 0 || p[7] != q[7]) return 0; /* class, flow label, hop limit */
  } else {
    if (p[1] != q[1] || p[8] != q[8] || (p[6] & 0x40) != (q[6] & 0x40)) return 0; /* TOS, TTL, DF */
    if (be16(p + 4) != (uint16_t)(be16(q + 4) + f->nseg)) return 0; /* IDs count up, as GSO will */
  }
  const uint8_t *tp = p + v->l4, *tq = q + f->l4;
  if (be32(tp + 4) != f->next_seq || memcmp(tp + 8, tq + 8, 4) != 0) return 0; /* seq, ack */
  if (memcmp(tp + 14, tq + 14, 2) != 0) return 0;                               /* window */
  return memcmp(tp + 20, tq + 20, v->hl - v->l4 - 20) == 0;                      /* options */
}

static int tcp_csum_ok(const uint8_t *p, uint32_t len, const tcp_view *v) {
  uint64_t acc = pseudo_sum(p, v->v6, len - v->l4);
  return csum_fold(csum_add(acc, p + v->l4, len - v->l4)) == 0xffff;
}

static void gro_packet(gro_ctx *c, const uint8_t *p, uint32_t len) {
  tcp_view v;
  if (tcp_parse(p, len, &v) < 0) {
    send_plain(c, p, len);
    return;
  }
  uint32_t k = 0;
  while (k < c->nflows) {
    const gro_flow *f = &c->flows[c->order[k]];
    if (f->v6 == v.v6 && same_flow(f->p, p, v.v6, v.l4)) break;
    k++;
  }
  if (v.mergeable && !tcp_csum_ok(p, len, &v)) {
    c->ctr[W_BAD_CSUM]++;
    v.mergeable = 0;
  }
  if (k < c->nflows && v.mergeable && can_append(&c->flows[c->order[k]], p, &v)) {
    gro_flow *f = &c->flows[c->order[k]];
    f->iov[++f->nseg].iov_base = (void *)(p + v.hl);
    f->iov[f->nseg].iov_len = v.payload;
    f->bytes += v.payload;
    f->ip_bytes += len;
    f->next_seq += v.payload;
    if (v.payload < f->gso || (p[v.l4 + 13] & TCP_PSH)) f->closed = 1;
    f->psh |= (p[v.l4 + 13] & TCP_PSH) != 0;
    return;
  }
  if (k < c->nflows) flow_close(c, k); /* keep the flow's order: what was merged goes first */
  if (!v.mergeable) {
    send_plain(c, p, len);
    return;
  }
  if (c->nflows == GRO_FLOWS) flow_close(c, 0);
  gro_flow *f = &c->flows[c->order[c->nflows++]];
  f->p = p;
  f->l4 = v.l4;
  f->hl = v.hl;
  f->v6 = v.v6;
  f->gso = v.payload;
  f->bytes = v.payload;
  f->ip_bytes = len;
  f->next_seq = be32(p + v.l4 + 4) + v.payload;
  f->nseg = 1;
  f->psh = (p[v.l4 + 13] & TCP_PSH) != 0;
  f->closed = f->psh;
  f->iov[1].iov_base = (void *)(p + v.hl);
  f->iov[1].iov_len = v.payload;
}

/* Shared argument handling of writeBatchGro / coalesce: (.., slab, offsets, lengths, n, ..). */
static int gro_run(napi_env env, napi_value *argv, gro_ctx *c) {
  uint8_t *slab;
  uint32_t *off, *len, n, *ctr;
  size_t slab_len, n_off, n_len, n_ctr;
  if (get_u8(env, argv[0], "slab", &slab, &slab_len) < 0 || get_u32arr(env, argv[1], "offsets", &off, &n_off) < 0 ||
      get_u32arr(env, argv[2], "lengths", &len, &n_len) < 0 || get_u32(env, argv[3], "n", &n) < 0 ||
      get_u32arr(env, argv[4], "counters", &ctr, &n_ctr) < 0)
    return -1;
  if (n > n_off || n > n_len) return throw_arg(env, ERR_ARG, "n: %u exceeds the length of offsets/lengths", n), -1;
  if (n_ctr < W_WORDS) return throw_arg(env, ERR_ARG, "counters: expected at least %d words", W_WORDS), -1;
  for (uint32_t i = 0; i < n; i++)
    if (!range_ok(off[i], len[i], slab_len) || len[i] > MAX_FRAME)
      return throw_arg(env, ERR_ARG, "packet %u: offset %u + %u is past the slab (%zu bytes)", i, off[i], len[i],
                       slab_len), -1;
  memset(ctr, 0, W_WORDS * sizeof *ctr);
  c->ctr = ctr;
  c->nflows = 0;
  for (uint8_t k = 0; k < GRO_FLOWS; k++) c->order[k] = k;
  c->fatal = 0;
  for (uint32_t i = 0; i < n && !c->fatal; i++) gro_packet(c, slab + off[i], len[i]);
  while (c->nflows > 0 && !c->fatal) flow_close(c, 0);
  return 0;
}

/* writeBatchGro(fd, slab, offsets, lengths, n, counters): every packet is written or counted. */
static napi_value tun_write_batch_gro(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  static __thread gro_ctx c; /* ~9 KiB of iovecs and headers: not on the stack, not per call */
  if (get_args(env, info, 6, argv) < 0 || get_fd(env, argv[0], &c.fd) < 0 || gro_run(env, argv + 1, &c) < 0)
    return NULL;
  if (c.fatal) return io_error(env, c.fatal, "writev");
  return NULL;
}

/* coalesce(slab, offsets, lengths, n, counters, out, outLengths) -> frames: what writeBatchGro
 * would write (virtio header + packet each), laid end to end in out. */
static napi_value tun_coalesce(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  static __thread gro_ctx c;
  size_t n_lens;
  if (get_args(env, info, 7, argv) < 0 || get_u8(env, argv[5], "out", &c.out, &c.out_len) < 0 ||
      get_u32arr(env, argv[6], "outLengths", &c.out_lens, &n_lens) < 0)
    return NULL;
  c.fd = -1;
  c.out_used = 0;
  c.out_n = 0;
  c.out_max = (uint32_t)n_lens;
  if (gro_run(env, argv, &c) < 0) return NULL;
  return make_i32(env, (int32_t)c.out_n);
}

int init_tun_offload(napi_env env, napi_value obj) {
  if (set_fn(env, obj, "readBatchGso", tun_read_batch_gso, NULL) < 0 ||
      set_fn(env, obj, "segmentFrame", tun_segment_frame, NULL) < 0 ||
      set_fn(env, obj, "writeBatchGro", tun_write_batch_gro, NULL) < 0 ||
      set_fn(env, obj, "coalesce", tun_coalesce, NULL) < 0)
    return -1;
  return 0;
}

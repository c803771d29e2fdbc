/*
 * Batched UDP: recvmmsg with GRO, sendmmsg, and one-call GSO sends (UDP_SEGMENT).
 *
 * Flow of recvBatch / sendBatch:
 *   1. Validate every (offset, capacity/length) pair against the slab and the address array
 *      sizes; a bad one throws OVPN_ERR_INVALID_ARG before any syscall.
 *   2. Point the per-instance mmsghdr/iovec/sockaddr/cmsg scratch at the slab (no allocation
 *      after the first call; the scratch is sized for UIO_MAXIOV messages).
 *   3. One recvmmsg/sendmmsg with MSG_DONTWAIT.
 *   4. recv: copy lengths, 20-byte source addresses and GRO segment sizes out.
 *
 * Results: count (>= 0, 0 = EAGAIN), or -errno for a transient error (ICMP-induced
 * ECONNREFUSED on a connected socket, ENETUNREACH, EMSGSIZE, ...). Errors that make the fd
 * unusable throw (see common.h).
 *
 * Address record (20 bytes, shared with src/transport/addr.ts):
 *   [0] family 4|6  [1] 0  [2..3] port BE  [4..19] address (IPv4 in 4..7, rest zero)
 * IPv4-mapped IPv6 sources are reported as family 4. A family-4 destination on an IPv6 socket is
 * sent as-is: Linux routes AF_INET destinations on a dual-stack AF_INET6 socket through IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#define MAX_BATCH 1024 /* UIO_MAXIOV: the kernel's cap on vlen */
#define ADDR_LEN 20

struct ovpn_udp_scratch {
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_in6 names[MAX_BATCH]; /* large enough for either family */
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctrl[MAX_BATCH];
};

static struct ovpn_udp_scratch *scratch(napi_env env, ovpn_instance *inst) {
  if (!inst->udp && !(inst->udp = calloc(1, sizeof *inst->udp))) throw_errno(env, ENOMEM, "calloc");
  return inst->udp;
}

/* rec -> sockaddr. Returns the sockaddr length, or 0 if the family byte is not 4 or 6. */
static socklen_t rec_to_sa(const uint8_t *rec, struct sockaddr_in6 *sa) {
  memset(sa, 0, sizeof *sa);
  uint16_t port_be;
  memcpy(&port_be, rec + 2, 2);
  if (rec[0] == 4) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
    s4->sin_family = AF_INET;
    s4->sin_port = port_be;
    memcpy(&s4->sin_addr, rec + 4, 4);
    return sizeof *s4;
  }
  if (rec[0] != 6) return 0;
  sa->sin6_family = AF_INET6;
  sa->sin6_port = port_be;
  memcpy(&sa->sin6_addr, rec + 4, 16);
  return sizeof *sa;
}

static void sa_to_rec(const struct sockaddr_in6 *sa, uint8_t *rec) {
  memset(rec, 0, ADDR_LEN);
  memcpy(rec + 2, &sa->sin6_port, 2); /* sin_port and sin6_port share an offset */
  if (sa->sin6_family == AF_INET) {
    rec[0] = 4;
    memcpy(rec + 4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  } else if (sa->sin6_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
    rec[0] = 4;
    memcpy(rec + 4, sa->sin6_addr.s6_addr + 12, 4);
  } else if (sa->sin6_family == AF_INET6) {
    rec[0] = 6;
    memcpy(rec + 4, &sa->sin6_addr, 16);
  } else {
    memset(rec + 2, 0, 2);
  }
}

/* Checks slab[off[i] .. +len[i]) for i < n, and that every array holds n entries. */
static int check_slots(napi_env env, size_t slab_len, const uint32_t *off, size_t off_len,
                       const uint32_t *len, size_t len_len, uint32_t n, const char *len_name) {
  if (n > off_len || n > len_len)
    return throw_arg(env, ERR_ARG, "n/max: %u exceeds offsets (%zu) or %s (%zu)", n, off_len,
                     len_name, len_len), -1;
  for (uint32_t i = 0; i < n; i++)
    if (!range_ok(off[i], len[i], slab_len))
      return throw_arg(env, ERR_ARG, "%s[%u]: offset %u + %u is past the slab (%zu bytes)",
                       len_name, i, off[i], len[i], slab_len), -1;
  return 0;
}

/* recvBatch(fd, slab, offsets, capacities, lengths, addrs|null, segSizes|null, max) -> count */
static napi_value udp_recv_batch(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int fd;
  uint8_t *slab, *addrs;
  uint32_t *off, *cap, *lens, *segs, max;
  size_t slab_len, off_len, cap_len, lens_len, addrs_len, segs_len;
  struct ovpn_udp_scratch *s;
  void *data;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  if (get_args(env, info, 8, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u8(env, argv[1], "slab", &slab, &slab_len) < 0 ||
      get_u32arr(env, argv[2], "offsets", &off, &off_len) < 0 ||
      get_u32arr(env, argv[3], "capacities", &cap, &cap_len) < 0 ||
      get_u32arr(env, argv[4], "lengths", &lens, &lens_len) < 0 ||
      get_u8_or_null(env, argv[5], "addrs", &addrs, &addrs_len) < 0 ||
      get_u32arr_or_null(env, argv[6], "segSizes", &segs, &segs_len) < 0 ||
      get_u32(env, argv[7], "max", &max) < 0 || !(s = scratch(env, data)))
    return NULL;
  if (max > MAX_BATCH) max = MAX_BATCH;
  if (check_slots(env, slab_len, off, off_len, cap, cap_len, max, "capacities") < 0) return NULL;
  if (max > lens_len || (addrs && addrs_len < (size_t)max * ADDR_LEN) || (segs && max > segs_len))
    return throw_arg(env, ERR_ARG, "max: %u exceeds lengths, addrs (20 bytes each) or segSizes", max),
           NULL;
  for (uint32_t i = 0; i < max; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    s->iov[i].iov_base = slab + off[i];
    s->iov[i].iov_len = cap[i];
    h->msg_iov = &s->iov[i];
    h->msg_iovlen = 1;
    h->msg_name = addrs ? &s->names[i] : NULL;
    h->msg_namelen = addrs ? sizeof s->names[i] : 0;
    h->msg_control = segs ? s->ctrl[i].buf : NULL;
    h->msg_controllen = segs ? sizeof s->ctrl[i].buf : 0;
    h->msg_flags = 0;
  }
  int n, tries = 0;
  /* MSG_TRUNC: msg_len is the datagram's real length, so the caller can see truncation. */
  while ((n = recvmmsg(fd, s->msgs, max, MSG_DONTWAIT | MSG_TRUNC, NULL)) < 0 && errno == EINTR &&
         ++tries < 8) {
  }
  if (n < 0) return io_error(env, errno, "recvmmsg");
  for (int i = 0; i < n; i++) {
    lens[i] = s->msgs[i].msg_len;
    if (addrs) sa_to_rec(&s->names[i], addrs + (size_t)i * ADDR_LEN);
    if (!segs) continue;
    segs[i] = 0;
    struct msghdr *h = &s->msgs[i].msg_hdr;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int g;
        memcpy(&g, CMSG_DATA(c), sizeof g);
        segs[i] = (uint32_t)g;
      }
    }
  }
  return make_i32(env, n);
}

/* sendBatch(fd, slab, offsets, lengths, addrs|null, n) -> count sent, 0 on EAGAIN, or -errno */
static napi_value udp_send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int fd;
  uint8_t *slab, *addrs;
  uint32_t *off, *lens, n;
  size_t slab_len, off_len, lens_len, addrs_len;
  struct ovpn_udp_scratch *s;
  void *data;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  if (get_args(env, info, 6, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u8(env, argv[1], "slab", &slab, &slab_len) < 0 ||
      get_u32arr(env, argv[2], "offsets", &off, &off_len) < 0 ||
      get_u32arr(env, argv[3], "lengths", &lens, &lens_len) < 0 ||
      get_u8_or_null(env, argv[4], "addrs", &addrs, &addrs_len) < 0 ||
      get_u32(env, argv[5], "n", &n) < 0 || !(s = scratch(env, data)))
    return NULL;
  if (n > MAX_BATCH) n = MAX_BATCH;
  if (check_slots(env, slab_len, off, off_len, lens, lens_len, n, "lengths") < 0) return NULL;
  if (addrs && addrs_len < (size_t)n * ADDR_LEN)
    return throw_arg(env, ERR_ARG, "addrs: %u datagrams need %u bytes, got %zu", n, n * ADDR_LEN,
                     addrs_len), NULL;
  for (uint32_t i = 0; i < n; i++) {
    struct msghdr *h = &s->msgs[i].msg_hdr;
    memset(h, 0, sizeof *h);
    s->iov[i].iov_base = slab + off[i];
    s->iov[i].iov_len = lens[i];
    h->msg_iov = &s->iov[i];
    h->msg_iovlen = 1;
    if (addrs) {
      h->msg_name = &s->names[i];
      if (!(h->msg_namelen = rec_to_sa(addrs + (size_t)i * ADDR_LEN, &s->names[i])))
        return throw_arg(env, ERR_ARG, "addrs[%u]: family byte must be 4 or 6", i), NULL;
    }
  }
  if (n == 0) return make_i32(env, 0);
  int sent, tries = 0;
  while ((sent = sendmmsg(fd, s->msgs, n, MSG_DONTWAIT)) < 0 && errno == EINTR && ++tries < 8) {
  }
  return sent < 0 ? io_error(env, errno, "sendmmsg") : make_i32(env, sent);
}

/* sendGso(fd, slab, offset, totalLen, segSize, addr|null) -> segments, 0 on EAGAIN, or -errno */
static napi_value udp_send_gso(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int fd;
  uint8_t *slab, *addr;
  uint32_t off, total, seg;
  size_t slab_len, addr_len;
  if (get_args(env, info, 6, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u8(env, argv[1], "slab", &slab, &slab_len) < 0 || get_u32(env, argv[2], "offset", &off) < 0 ||
      get_u32(env, argv[3], "totalLen", &total) < 0 || get_u32(env, argv[4], "segSize", &seg) < 0 ||
      get_u8_or_null(env, argv[5], "addr", &addr, &addr_len) < 0)
    return NULL;
  if (!range_ok(off, total, slab_len))
    return throw_arg(env, ERR_ARG, "offset/totalLen: %u + %u is past the slab (%zu bytes)", off, total,
                     slab_len), NULL;
  if (seg == 0 || seg > 0xffff) return throw_arg(env, ERR_ARG, "segSize: expected 1..65535"), NULL;
  struct sockaddr_in6 sa;
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } ctrl;
  struct iovec iov = {slab + off, total};
  struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf,
                     .msg_controllen = sizeof ctrl.buf};
  if (addr) {
    if (addr_len < ADDR_LEN || !(h.msg_namelen = rec_to_sa(addr, &sa)))
      return throw_arg(env, ERR_ARG, "addr: expected a 20-byte record of family 4 or 6"), NULL;
    h.msg_name = &sa;
  }
  struct cmsghdr *c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t gso = (uint16_t)seg;
  memcpy(CMSG_DATA(c), &gso, sizeof gso);
  ssize_t r;
  int tries = 0;
  while ((r = sendmsg(fd, &h, MSG_DONTWAIT)) < 0 && errno == EINTR && ++tries < 8) {
  }
  if (r < 0) return io_error(env, errno, "sendmsg");
  return make_i32(env, total == 0 ? 1 : (int32_t)((total + seg - 1) / seg));
}

int init_udp(napi_env env, napi_value obj, ovpn_instance *inst) {
  if (set_fn(env, obj, "recvBatch", udp_recv_batch, inst) < 0 ||
      set_fn(env, obj, "sendBatch", udp_send_batch, inst) < 0 ||
      set_fn(env, obj, "sendGso", udp_send_gso, NULL) < 0)
    return -1;
  return init_udp_setup(env, obj);
}

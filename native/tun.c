/*
 * TUN devices: open with ioctl, offload/vnet_hdr set-up, batched non-blocking read and write.
 *
 * Flow of readBatch / writeBatch:
 *   1. Validate every (offset, capacity/length) slot against the slab; a bad one throws
 *      OVPN_ERR_INVALID_ARG before any syscall.
 *   2. read()/write() one frame per slot straight into/out of the slab until EAGAIN or the end.
 *   3. Return the count. An error on the first frame returns -errno (0 for EAGAIN); an error
 *      after some frames returns the count so far (the next call then reports it).
 *
 * The fd is O_NONBLOCK: reads are driven by a poll watcher (poll.c), never the libuv threadpool,
 * whose blocked reads would hang process.exit() (node-platform.md §2).
 * With vnetHdr, every frame starts with a struct virtio_net_hdr (10 bytes, or 12 after
 * setVnetHdrSize(fd, 12)); capacities must cover header + packet (64 KiB + header once
 * TSO/USO offloads are on).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

static int opt_bool(napi_env env, napi_value opts, const char *key, int *out) {
  napi_value v;
  int present;
  *out = 0;
  if (get_opt(env, opts, key, &v, &present) < 0) return -1;
  return present ? get_bool(env, v, key, out) : 0;
}

/* open({name?, multiQueue?, vnetHdr?}) -> {fd, name} */
static napi_value tun_open(napi_env env, napi_callback_info info) {
  napi_value argv[1], v, out;
  int present, mq, vnet;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (get_args(env, info, 1, argv) < 0 || opt_bool(env, argv[0], "multiQueue", &mq) < 0 ||
      opt_bool(env, argv[0], "vnetHdr", &vnet) < 0 || get_opt(env, argv[0], "name", &v, &present) < 0)
    return NULL;
  if (present && get_str(env, v, "name", ifr.ifr_name, IFNAMSIZ) < 0) return NULL;
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (mq ? IFF_MULTI_QUEUE : 0) | (vnet ? IFF_VNET_HDR : 0);
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open(/dev/net/tun)"), NULL;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(TUNSETIFF)"), NULL;
  }
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "fd", make_i32(env, fd));
  napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &v);
  napi_set_named_property(env, out, "name", v);
  return out;
}

/* setOffload(fd, TUN_F_* flags) */
static napi_value tun_set_offload(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  uint32_t flags;
  if (get_args(env, info, 2, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u32(env, argv[1], "flags", &flags) < 0)
    return NULL;
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0) throw_errno(env, errno, "ioctl(TUNSETOFFLOAD)");
  return NULL;
}

/* setVnetHdrSize(fd, size) */
static napi_value tun_set_vnet_hdr_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  uint32_t size;
  if (get_args(env, info, 2, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u32(env, argv[1], "size", &size) < 0)
    return NULL;
  int sz = (int)size;
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) throw_errno(env, errno, "ioctl(TUNSETVNETHDRSZ)");
  return NULL;
}

/* Runs one SIOC* ioctl on interface `name` through a throwaway socket. */
static int if_ioctl(napi_env env, napi_value name, unsigned long req, struct ifreq *ifr, const char *what) {
  if (get_str(env, name, "name", ifr->ifr_name, IFNAMSIZ) < 0) return -1;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return throw_errno(env, errno, "socket"), -1;
  int r = ioctl(s, req, ifr), err = errno;
  close(s);
  if (r < 0) return throw_errno(env, err, what), -1;
  return 0;
}

/* setMtu(name, mtu) */
static napi_value tun_set_mtu(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t mtu;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (get_args(env, info, 2, argv) < 0 || get_u32(env, argv[1], "mtu", &mtu) < 0) return NULL;
  if (mtu < 68 || mtu > 65535) return throw_arg(env, ERR_ARG, "mtu: expected 68..65535"), NULL;
  ifr.ifr_mtu = (int)mtu;
  if_ioctl(env, argv[0], SIOCSIFMTU, &ifr, "ioctl(SIOCSIFMTU)");
  return NULL;
}

/* setUp(name, up): sets or clears IFF_UP, keeping the other flags. */
static napi_value tun_set_up(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int up;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (get_args(env, info, 2, argv) < 0 || get_bool(env, argv[1], "up", &up) < 0 ||
      if_ioctl(env, argv[0], SIOCGIFFLAGS, &ifr, "ioctl(SIOCGIFFLAGS)") < 0)
    return NULL;
  ifr.ifr_flags = (short)(up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP));
  if_ioctl(env, argv[0], SIOCSIFFLAGS, &ifr, "ioctl(SIOCSIFFLAGS)");
  return NULL;
}

typedef struct {
  int fd;
  uint8_t *slab;
  uint32_t *off, *len, *out, n;
} frames;

/* Unpacks (fd, slab, offsets, sizes, [lengths,] n) and checks every slot against the slab. */
static int get_frames(napi_env env, napi_callback_info info, int reading, frames *f) {
  napi_value argv[6];
  size_t slab_len, off_len, len_len, out_len = 0;
  int nargs = reading ? 6 : 5;
  if (get_args(env, info, (size_t)nargs, argv) < 0 || get_fd(env, argv[0], &f->fd) < 0 ||
      get_u8(env, argv[1], "slab", &f->slab, &slab_len) < 0 ||
      get_u32arr(env, argv[2], "offsets", &f->off, &off_len) < 0 ||
      get_u32arr(env, argv[3], reading ? "capacities" : "lengths", &f->len, &len_len) < 0 ||
      (reading && get_u32arr(env, argv[4], "lengths", &f->out, &out_len) < 0) ||
      get_u32(env, argv[nargs - 1], reading ? "max" : "n", &f->n) < 0)
    return -1;
  if (f->n > off_len || f->n > len_len || (reading && f->n > out_len))
    return throw_arg(env, ERR_ARG, "%s: %u exceeds the length of offsets/%s", reading ? "max" : "n", f->n,
                     reading ? "capacities/lengths" : "lengths"), -1;
  for (uint32_t i = 0; i < f->n; i++)
    if (!range_ok(f->off[i], f->len[i], slab_len))
      return throw_arg(env, ERR_ARG, "slot %u: offset %u + %u is past the slab (%zu bytes)", i, f->off[i],
                       f->len[i], slab_len), -1;
  return 0;
}

/* Result after frame i failed with err: count so far, else 0/-errno/throw. */
static napi_value partial(napi_env env, uint32_t i, int err, const char *syscall) {
  return i > 0 && !errno_is_fatal(err) ? make_i32(env, (int32_t)i) : io_error(env, err, syscall);
}

/* readBatch(fd, slab, offsets, capacities, lengths, max) -> count */
static napi_value tun_read_batch(napi_env env, napi_callback_info info) {
  frames f;
  if (get_frames(env, info, 1, &f) < 0) return NULL;
  for (uint32_t i = 0; i < f.n; i++) {
    ssize_t r;
    int tries = 0;
    while ((r = read(f.fd, f.slab + f.off[i], f.len[i])) < 0 && errno == EINTR && ++tries < 8) {
    }
    if (r < 0) return partial(env, i, errno, "read");
    f.out[i] = (uint32_t)r;
  }
  return make_i32(env, (int32_t)f.n);
}

/* writeBatch(fd, slab, offsets, lengths, n) -> count written */
static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  frames f;
  if (get_frames(env, info, 0, &f) < 0) return NULL;
  for (uint32_t i = 0; i < f.n; i++) {
    ssize_t r;
    int tries = 0;
    while ((r = write(f.fd, f.slab + f.off[i], f.len[i])) < 0 && errno == EINTR && ++tries < 8) {
    }
    if (r < 0) return partial(env, i, errno, "write");
  }
  return make_i32(env, (int32_t)f.n);
}

int init_tun(napi_env env, napi_value obj) {
  if (set_fn(env, obj, "open", tun_open, NULL) < 0 || set_fn(env, obj, "setOffload", tun_set_offload, NULL) < 0 ||
      set_fn(env, obj, "setVnetHdrSize", tun_set_vnet_hdr_size, NULL) < 0 ||
      set_fn(env, obj, "setMtu", tun_set_mtu, NULL) < 0 || set_fn(env, obj, "setUp", tun_set_up, NULL) < 0 ||
      set_fn(env, obj, "close", fd_close, NULL) < 0 || set_fn(env, obj, "readBatch", tun_read_batch, NULL) < 0 ||
      set_fn(env, obj, "writeBatch", tun_write_batch, NULL) < 0 || init_tun_offload(env, obj) < 0)
    return -1;
  return 0;
}

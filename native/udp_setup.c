/*
 * UDP socket set-up (not on the data path): socket, bind, connect, getsockname, GRO, close, plus
 * the process-wide capability probe caps() and errnoName(). Errors here always throw: TypeError
 * for bad arguments, errno Errors (code = "EADDRINUSE", ...) for failed syscalls.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

static int set_int_opt(int fd, int level, int name, int v) {
  return setsockopt(fd, level, name, &v, sizeof v);
}

/* Reads an optional numeric/boolean option; returns -1 after throwing. */
static int opt_int(napi_env env, napi_value opts, const char *key, int is_bool, int *out, int *present) {
  napi_value v;
  if (get_opt(env, opts, key, &v, present) < 0) return -1;
  if (!*present) return 0;
  if (is_bool) return get_bool(env, v, key, out);
  uint32_t u;
  if (get_u32(env, v, key, &u) < 0) return -1;
  if (u > 0x7fffffff) return throw_arg(env, ERR_ARG, "%s: at most 2^31-1", key), -1;
  *out = (int)u;
  return 0;
}

/* socket(family 4|6, {reusePort?, rcvbuf?, sndbuf?, v6Only?, gro?}) -> fd */
static napi_value udp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  uint32_t fam;
  if (get_args(env, info, 2, argv) < 0 || get_u32(env, argv[0], "family", &fam) < 0) return NULL;
  if (fam != 4 && fam != 6) return throw_arg(env, ERR_ARG, "family: expected 4 or 6"), NULL;
  static const struct {
    const char *key;
    int is_bool, level, name;
  } opts[] = {{"reusePort", 1, SOL_SOCKET, SO_REUSEPORT}, {"rcvbuf", 0, SOL_SOCKET, SO_RCVBUF},
              {"sndbuf", 0, SOL_SOCKET, SO_SNDBUF},       {"v6Only", 1, IPPROTO_IPV6, IPV6_V6ONLY},
              {"gro", 1, SOL_UDP, UDP_GRO}};
  int vals[5], present[5];
  for (int i = 0; i < 5; i++)
    if (opt_int(env, argv[1], opts[i].key, opts[i].is_bool, &vals[i], &present[i]) < 0) return NULL;
  if (present[3] && fam == 4) return throw_arg(env, ERR_ARG, "v6Only: only for family 6"), NULL;
  int fd = socket(fam == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket"), NULL;
  for (int i = 0; i < 5; i++) {
    if (present[i] && set_int_opt(fd, opts[i].level, opts[i].name, vals[i]) < 0) {
      int err = errno;
      close(fd);
      return throw_errno(env, err, opts[i].key), NULL;
    }
  }
  return make_i32(env, fd);
}

/* Parses host text for a socket of domain `dom`; IPv4 on an IPv6 socket becomes ::ffff:a.b.c.d. */
static socklen_t parse_host(napi_env env, int fd, napi_value host, uint32_t port,
                            struct sockaddr_in6 *sa) {
  char text[64];
  int dom = 0;
  socklen_t dl = sizeof dom;
  if (get_str(env, host, "address", text, sizeof text) < 0) return 0;
  if (port > 0xffff) return throw_arg(env, ERR_ARG, "port: expected 0..65535"), 0;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0) return throw_errno(env, errno, "getsockopt"), 0;
  memset(sa, 0, sizeof *sa);
  struct in_addr v4;
  if (inet_pton(AF_INET, text, &v4) == 1) {
    if (dom == AF_INET) {
      struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
      s4->sin_family = AF_INET;
      s4->sin_port = htons((uint16_t)port);
      s4->sin_addr = v4;
      return sizeof *s4;
    }
    sa->sin6_addr.s6_addr[10] = sa->sin6_addr.s6_addr[11] = 0xff;
    memcpy(sa->sin6_addr.s6_addr + 12, &v4, 4);
  } else if (inet_pton(AF_INET6, text, &sa->sin6_addr) != 1) {
    return throw_arg(env, ERR_ARG, "address: \"%s\" is not an IPv4 or IPv6 literal", text), 0;
  } else if (dom != AF_INET6) {
    return throw_arg(env, ERR_ARG, "address: \"%s\" is IPv6 but the socket is IPv4", text), 0;
  }
  sa->sin6_family = AF_INET6;
  sa->sin6_port = htons((uint16_t)port);
  return sizeof *sa;
}

static napi_value bind_or_connect(napi_env env, napi_callback_info info, int is_bind) {
  napi_value argv[3];
  int fd;
  uint32_t port;
  struct sockaddr_in6 sa;
  socklen_t len;
  if (get_args(env, info, 3, argv) < 0 || get_fd(env, argv[0], &fd) < 0 ||
      get_u32(env, argv[2], "port", &port) < 0 || !(len = parse_host(env, fd, argv[1], port, &sa)))
    return NULL;
  int r = is_bind ? bind(fd, (struct sockaddr *)&sa, len) : connect(fd, (struct sockaddr *)&sa, len);
  if (r < 0) throw_errno(env, errno, is_bind ? "bind" : "connect");
  return NULL;
}

static napi_value udp_bind(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, 1); }
static napi_value udp_connect(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, 0); }

/* getsockname(fd) -> local port */
static napi_value udp_getsockname(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  struct sockaddr_in6 sa;
  socklen_t len = sizeof sa;
  if (get_args(env, info, 1, argv) < 0 || get_fd(env, argv[0], &fd) < 0) return NULL;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) return throw_errno(env, errno, "getsockname"), NULL;
  return make_u32(env, ntohs(sa.sin6_port)); /* same offset in sockaddr_in */
}

/* setGro(fd, on) -> false when the kernel lacks UDP_GRO */
static napi_value udp_set_gro(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, on;
  if (get_args(env, info, 2, argv) < 0 || get_fd(env, argv[0], &fd) < 0 || get_bool(env, argv[1], "on", &on) < 0)
    return NULL;
  if (set_int_opt(fd, SOL_UDP, UDP_GRO, on) == 0) return make_bool(env, 1);
  if (errno == ENOPROTOOPT) return make_bool(env, 0);
  return throw_errno(env, errno, "setsockopt(UDP_GRO)"), NULL;
}

/* close(fd): shared by UDP and TUN fds. */
napi_value fd_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) < 0 || get_fd(env, argv[0], &fd) < 0) return NULL;
  if (close(fd) < 0 && errno != EINTR) throw_errno(env, errno, "close");
  return NULL;
}

/* Probes once per process: can a UDP socket take UDP_SEGMENT / UDP_GRO? */
static int probe(int name, int val) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  int ok = set_int_opt(fd, SOL_UDP, name, val) == 0;
  close(fd);
  return ok;
}

static napi_value caps(napi_env env, napi_callback_info info) {
  static int gso = -1, gro = -1; /* racing threads compute the same answer */
  if (gso < 0) gso = probe(UDP_SEGMENT, 1400);
  if (gro < 0) gro = probe(UDP_GRO, 1);
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "udpGso", make_bool(env, gso));
  napi_set_named_property(env, o, "udpGro", make_bool(env, gro));
  napi_set_named_property(env, o, "maxBatch", make_u32(env, 1024));
  return o;
}

static napi_value errno_name_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], r;
  int32_t e;
  if (get_args(env, info, 1, argv) < 0 || get_i32(env, argv[0], "errno", &e) < 0) return NULL;
  napi_create_string_utf8(env, errno_name(e < 0 ? -e : e), NAPI_AUTO_LENGTH, &r);
  return r;
}

int init_udp_setup(napi_env env, napi_value obj) {
  if (set_fn(env, obj, "socket", udp_socket, NULL) < 0 || set_fn(env, obj, "bind", udp_bind, NULL) < 0 ||
      set_fn(env, obj, "connect", udp_connect, NULL) < 0 ||
      set_fn(env, obj, "getsockname", udp_getsockname, NULL) < 0 ||
      set_fn(env, obj, "setGro", udp_set_gro, NULL) < 0 || set_fn(env, obj, "close", fd_close, NULL) < 0)
    return -1;
  return 0;
}

int init_top(napi_env env, napi_value exports) {
  return set_fn(env, exports, "caps", caps, NULL) < 0 || set_fn(env, exports, "errnoName", errno_name_js, NULL) < 0
             ? -1
             : 0;
}

{
  "targets": [
    {
      "target_name": "ovpn_native",
      "sources": [
        "native/main.c",
        "native/common.c",
        "native/aead.c",
        "native/tun.c",
        "native/tun_offload.c",
        "native/udp.c",
        "native/udp_setup.c",
        "native/poll.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}

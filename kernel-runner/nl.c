/* nl.c — netlink requests and bounds-checked reply parsing (nl.h). */
#include "nl.h"

#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

static void *grow(sl_nlmsg_t *m, size_t len) {
  size_t need = ALIGN4(len);
  if (m->overflow || need < len || m->len > m->cap || m->cap - m->len < need) {
    m->overflow = 1;
    return NULL;
  }
  unsigned char *p = m->buf + m->len;
  memset(p, 0, need);
  m->len += need;
  return p;
}

void sl_nlmsg_init(sl_nlmsg_t *m, void *buf, size_t cap, uint16_t type, uint16_t flags) {
  memset(m, 0, sizeof *m);
  m->buf = buf;
  m->cap = cap;
  struct nlmsghdr *h = grow(m, sizeof *h);
  if (!h) return;
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST | NLM_F_ACK);
}

void *sl_nlmsg_put(sl_nlmsg_t *m, const void *data, size_t len) {
  void *p = grow(m, len);
  if (p && data) memcpy(p, data, len);
  return p;
}

void sl_nlmsg_attr(sl_nlmsg_t *m, uint16_t type, const void *data, size_t len) {
  if (len > 0xFFFFu - NLA_HDRLEN) {
    m->overflow = 1;
    return;
  }
  struct nlattr *a = grow(m, NLA_HDRLEN + len);
  if (!a) return;
  a->nla_type = type;
  a->nla_len = (uint16_t)(NLA_HDRLEN + len);
  if (len) memcpy((unsigned char *)a + NLA_HDRLEN, data, len);
}

void sl_nlmsg_attr_str(sl_nlmsg_t *m, uint16_t type, const char *s) { sl_nlmsg_attr(m, type, s, strlen(s) + 1); }

void sl_nlmsg_attr_u32(sl_nlmsg_t *m, uint16_t type, uint32_t v) { sl_nlmsg_attr(m, type, &v, sizeof v); }

void sl_nlmsg_nest_begin(sl_nlmsg_t *m, uint16_t type) {
  if (m->depth >= SL_NL_MAX_NEST) {
    m->overflow = 1;
    return;
  }
  size_t at = m->len;
  struct nlattr *a = grow(m, NLA_HDRLEN);
  if (!a) return;
  a->nla_type = type;
  m->nest[m->depth++] = at;
}

void sl_nlmsg_nest_end(sl_nlmsg_t *m) {
  if (m->depth <= 0) {
    m->overflow = 1;
    return;
  }
  size_t at = m->nest[--m->depth];
  if (m->overflow) return;
  if (m->len - at > 0xFFFFu) {
    m->overflow = 1;
    return;
  }
  ((struct nlattr *)(m->buf + at))->nla_len = (uint16_t)(m->len - at);
}

int sl_nlmsg_finish(sl_nlmsg_t *m) {
  if (m->overflow || m->depth != 0 || m->len < NLMSG_HDRLEN || m->len > UINT32_MAX) return -ENOSPC;
  ((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
  return 0;
}

int sl_nl_open(int proto) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) return -errno;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  int one = 1;
  /* extended ACKs are not parsed, only make replies longer; errors stay errno values */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int sl_nl_parse(const void *buf, size_t len, uint32_t seq, int *err, sl_nl_cb cb, void *ud) {
  const unsigned char *p = buf;
  size_t off = 0;
  while (len - off >= NLMSG_HDRLEN) {
    struct nlmsghdr h;
    memcpy(&h, p + off, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off) return -EBADMSG;
    const unsigned char *pl = p + off + NLMSG_HDRLEN;
    size_t pll = h.nlmsg_len - NLMSG_HDRLEN;
    size_t step = ALIGN4(h.nlmsg_len);
    off = step > len - off ? len : off + step;
    if (h.nlmsg_seq != seq) continue;
    if (h.nlmsg_type == NLMSG_ERROR) {
      struct nlmsgerr e;
      if (pll < sizeof e.error) return -EBADMSG;
      memcpy(&e.error, pl, sizeof e.error);
      /* the kernel sends 0 or a negative errno; anything else is not a reply we understand */
      if (e.error > 0 || e.error < -4095) return -EBADMSG;
      *err = e.error;
      return 1;
    }
    if (h.nlmsg_type == NLMSG_DONE) {
      *err = 0;
      return 1;
    }
    if (h.nlmsg_type == NLMSG_NOOP) continue;
    if (cb) {
      int rc = cb(ud, h.nlmsg_type, pl, pll);
      if (rc < 0) return rc;
    }
  }
  return off == len ? 0 : -EBADMSG;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl_nl_transact(int fd, sl_nlmsg_t *m, sl_nl_cb cb, void *ud, int timeout_ms) {
  static uint32_t counter;
  if (m->len < NLMSG_HDRLEN) return -EINVAL;
  struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
  if (!counter) counter = (uint32_t)now_ms() | 1u;
  uint32_t seq = ++counter;
  h->nlmsg_seq = seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t w;
  do w = sendto(fd, m->buf, m->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (w < 0 && errno == EINTR);
  if (w < 0) return -errno;
  if ((size_t)w != m->len) return -EIO;
  int64_t deadline = now_ms() + timeout_ms;
  uint32_t rbuf[SL_NL_RECV_MAX / 4]; /* aligned for struct nlmsghdr; one datagram at a time */
  for (;;) {
    int64_t left = deadline - now_ms();
    struct pollfd p = {fd, POLLIN, 0};
    int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return -errno;
    if (pr == 0) return -ETIMEDOUT;
    ssize_t r = recv(fd, rbuf, sizeof rbuf, MSG_TRUNC);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r < 0) return -errno;
    if ((size_t)r > sizeof rbuf) return -EMSGSIZE;
    int err = 0, rc = sl_nl_parse(rbuf, (size_t)r, seq, &err, cb, ud);
    if (rc < 0) return rc;
    if (rc == 1) return err;
  }
}

const void *sl_nl_attr_find(const void *buf, size_t len, uint16_t type, size_t *alen) {
  const unsigned char *p = buf;
  size_t off = 0;
  while (len - off >= NLA_HDRLEN) {
    struct nlattr a;
    memcpy(&a, p + off, sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off) return NULL;
    if ((a.nla_type & NLA_TYPE_MASK) == type) {
      *alen = a.nla_len - NLA_HDRLEN;
      return p + off + NLA_HDRLEN;
    }
    size_t step = ALIGN4(a.nla_len);
    if (step > len - off) break;
    off += step;
  }
  return NULL;
}

int sl_nl_nft_table_comment(const void *payload, size_t len, char *out, size_t outlen) {
  if (outlen) out[0] = 0;
  size_t hl = ALIGN4(sizeof(struct nfgenmsg)), ulen;
  if (len < hl) return -EBADMSG;
  const unsigned char *attrs = (const unsigned char *)payload + hl;
  const unsigned char *ud = sl_nl_attr_find(attrs, len - hl, NFTA_TABLE_USERDATA, &ulen);
  if (!ud) return 0;
  /* nftnl userdata: a sequence of {u8 type, u8 len, value[len]}; the comment is type 0, NUL-terminated */
  size_t off = 0;
  while (ulen - off >= 2) {
    unsigned t = ud[off], l = ud[off + 1];
    if (l > ulen - off - 2) return -EBADMSG;
    if (t == 0) {
      const unsigned char *v = ud + off + 2;
      size_t n = 0;
      while (n < l && v[n]) n++;
      if (!outlen) return (int)n;
      if (n >= outlen) n = outlen - 1;
      memcpy(out, v, n);
      out[n] = 0;
      return (int)n;
    }
    off += 2u + l;
  }
  return 0;
}

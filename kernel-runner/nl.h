/* nl.h — netlink framing for the runner's network setup (rtnl.c: links and addresses; net_shared.c:
 * the nftables table check), spoken directly to the kernel over AF_NETLINK instead of exec'ing ip/nft.
 *
 * Three parts:
 *   - a request builder over a caller-provided, bounded buffer (overflow is remembered and reported by
 *     sl_nlmsg_finish, never written past);
 *   - sl_nl_transact: one request with NLM_F_ACK on a netlink socket, reading replies (bounded by a
 *     timeout) until the kernel's ACK or error for that request;
 *   - pure, bounds-checked parsers of the kernel's replies (a datagram of messages, attributes, the
 *     nftables table's userdata), fuzzed by tests/fuzz/fuzz_netlink.c.
 *
 * Ownership: sl_nlmsg_t is the caller's value and points into the caller's buffer; nothing here
 * allocates. Pointers handed to callbacks or returned by the parsers point into the buffer that was
 * parsed and are valid while it is. Sockets are the caller's (sl_nl_open returns a new fd). Requests are
 * numbered by a process-wide counter: call from one thread (the runner's main thread).
 */
#ifndef SLUICE_RUNNER_NL_H
#define SLUICE_RUNNER_NL_H

#include <stddef.h>
#include <stdint.h>

#define SL_NL_MAX_NEST 4
#define SL_NL_RECV_MAX 8192           /* one reply datagram; larger ones are truncated → -EMSGSIZE */
#define SL_NL_TIMEOUT_MS 5000

typedef struct {
  unsigned char *buf;
  size_t cap, len;
  int overflow;
  size_t nest[SL_NL_MAX_NEST];
  int depth;
} sl_nlmsg_t;

/* Starts a message (struct nlmsghdr) of type with flags | NLM_F_REQUEST | NLM_F_ACK in buf[cap]. */
void sl_nlmsg_init(sl_nlmsg_t *m, void *buf, size_t cap, uint16_t type, uint16_t flags);
/* Appends a fixed header (ifinfomsg, ifaddrmsg, nfgenmsg...), zero-padded to 4 bytes. NULL on overflow. */
void *sl_nlmsg_put(sl_nlmsg_t *m, const void *data, size_t len);
void sl_nlmsg_attr(sl_nlmsg_t *m, uint16_t type, const void *data, size_t len);
void sl_nlmsg_attr_str(sl_nlmsg_t *m, uint16_t type, const char *s); /* with its NUL */
void sl_nlmsg_attr_u32(sl_nlmsg_t *m, uint16_t type, uint32_t v);
/* Nested attributes: begin opens one (past SL_NL_MAX_NEST it marks overflow); end closes the last one. */
void sl_nlmsg_nest_begin(sl_nlmsg_t *m, uint16_t type);
void sl_nlmsg_nest_end(sl_nlmsg_t *m);
/* Closes the message (nlmsg_len). 0, or -ENOSPC when anything did not fit / nesting is unbalanced. */
int sl_nlmsg_finish(sl_nlmsg_t *m);

/* A new AF_NETLINK socket of protocol proto (NETLINK_ROUTE, NETLINK_NETFILTER), close-on-exec and
 * bound. Returns the fd or -errno. */
int sl_nl_open(int proto);

/* Called for each reply message of the request that is not its ACK/error: the message type and its
 * payload (after struct nlmsghdr). A negative return ends the walk with that value. */
typedef int (*sl_nl_cb)(void *ud, uint16_t type, const void *payload, size_t len);

/* Sends m (finished; its seq is set here) and reads the replies until the ACK or error of this request,
 * each recv bounded so the whole call ends within timeout_ms. Returns 0 on ACK, the kernel's -errno on
 * error, -ETIMEDOUT, -EBADMSG for a malformed reply, or the callback's negative value. */
int sl_nl_transact(int fd, sl_nlmsg_t *m, sl_nl_cb cb, void *ud, int timeout_ms);

/* Walks one received datagram buf[len]. Each message must lie within len (nlmsg_len ≥ header); messages
 * whose nlmsg_seq differs from seq are skipped (stale replies). NLMSG_ERROR sets *err to its error (0 for
 * an ACK) and NLMSG_DONE to 0, and end the request: returns 1. Other messages go to cb (may be NULL).
 * Returns 0 when the request needs more datagrams, -EBADMSG for a malformed buffer, or cb's value. */
int sl_nl_parse(const void *buf, size_t len, uint32_t seq, int *err, sl_nl_cb cb, void *ud);

/* The payload of the first attribute of type (NLA_TYPE_MASK applied) among the attributes in buf[len],
 * with its length in *alen; NULL when absent or when an attribute header lies outside buf. */
const void *sl_nl_attr_find(const void *buf, size_t len, uint16_t type, size_t *alen);

/* An nftables table reply (NFT_MSG_NEWTABLE payload: struct nfgenmsg + attributes): copies the table's
 * comment (nftnl userdata TLV type 0 inside NFTA_TABLE_USERDATA) into out[outlen], NUL-terminated and
 * truncated to fit. Returns its length, 0 when the table has no comment, -EBADMSG when malformed. */
int sl_nl_nft_table_comment(const void *payload, size_t len, char *out, size_t outlen);

#endif

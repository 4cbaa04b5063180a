/* pty.c — pseudo-terminal allocation and sizing (pty.h). */
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int sl_pty_resize(int master, int rows, int cols) {
  if (rows < SL_PTY_MIN_DIM || rows > SL_PTY_MAX_DIM || cols < SL_PTY_MIN_DIM || cols > SL_PTY_MAX_DIM) return -EINVAL;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  return ioctl(master, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

int sl_pty_open(int rows, int cols, int *master, int *slave) {
  *master = *slave = -1;
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), rc = 0;
  if (m < 0) return -errno;
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0) rc = -errno;
  /* the peer of this very master, not a path lookup that could name another pty */
  int s = rc ? -1 : ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (!rc && s < 0) rc = -errno;
  if (!rc) rc = sl_pty_resize(m, rows, cols);
  if (rc) {
    if (s >= 0) close(s);
    close(m);
    return rc;
  }
  *master = m;
  *slave = s;
  return 0;
}

int sl_pty_make_ctty(int fd) {
  return ioctl(fd, TIOCSCTTY, 0) < 0 ? -errno : 0;
}

/* The practical limit for dispatching short jobs: runs CMD N times, at most J
 * at a time, with posix_spawn and waitpid and nothing else (no logs, no
 * process groups, no timers). CMD is not looked up in PATH: give its path.
 *
 * Usage: spawn_loop N J CMD [ARGS...]
 * Exits 1 if any run of CMD failed, 2 on a usage or spawn error. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static long ParseCount(const char *text, const char *what) {
  char *end = NULL;
  errno = 0;
  long value = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1) {
    fprintf(stderr, "spawn_loop: %s: '%s' is not a positive number\n", what, text);
    exit(2);
  }
  return value;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: spawn_loop N J CMD [ARGS...]\n");
    return 2;
  }
  long total = ParseCount(argv[1], "N");
  long limit = ParseCount(argv[2], "J");
  char **cmd = argv + 3;

  long started = 0;
  long running = 0;
  long failed = 0;
  while (started < total || running > 0) {
    while (started < total && running < limit) {
      pid_t pid;
      int err = posix_spawn(&pid, cmd[0], NULL, NULL, cmd, environ);
      if (err != 0) {
        fprintf(stderr, "spawn_loop: %s: %s\n", cmd[0], strerror(err));
        return 2;
      }
      ++started;
      ++running;
    }
    int status;
    if (waitpid(-1, &status, 0) < 0) {
      perror("spawn_loop: waitpid");
      return 2;
    }
    --running;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  if (failed > 0) fprintf(stderr, "spawn_loop: %ld of %ld runs failed\n", failed, total);
  return failed > 0 ? 1 : 0;
}

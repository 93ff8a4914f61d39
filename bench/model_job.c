/* A stand-in for a GPU program that loads a model and then processes
 * inputs: it sleeps LOAD_MS (default 200) once, then MS_PER_INPUT (default
 * 5) per input. Three ways to call it, as bench/workers.sh does:
 *
 *   model_job INPUT...   one process for these inputs (one job, or a batch)
 *   model_job --worker   a headroom worker (docs/worker-protocol.md): one
 *                        request per stdin line, {"id": N, "inputs": [...],
 *                        ...}; replies {"id": N, "ok": true}; exits at EOF
 *
 * It reads only what it needs of a request: the id, and how many strings
 * its "inputs" array holds (inputs must not contain '"' or ']'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void SleepMs(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

static long EnvMs(const char *name, long fallback) {
  const char *text = getenv(name);
  return text != NULL && *text != '\0' ? atol(text) : fallback;
}

/* The number of strings in the request's "inputs" array. */
static long CountInputs(const char *line) {
  const char *p = strstr(line, "\"inputs\"");
  if (p == NULL) return 0;
  p = strchr(p, '[');
  const char *end = p != NULL ? strchr(p, ']') : NULL;
  if (end == NULL) return 0;
  long quotes = 0;
  for (; p < end; ++p) quotes += *p == '"';
  return quotes / 2;
}

int main(int argc, char **argv) {
  long per_input = EnvMs("MS_PER_INPUT", 5);
  SleepMs(EnvMs("LOAD_MS", 200));
  if (argc == 2 && strcmp(argv[1], "--worker") == 0) {
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, stdin) > 0) {
      const char *id = strstr(line, "\"id\"");
      if (id == NULL) continue;
      id = strchr(id, ':');
      long n = CountInputs(line);
      SleepMs(per_input * n);
      printf("{\"id\": %ld, \"ok\": true}\n", id != NULL ? atol(id + 1) : -1L);
      fflush(stdout);
    }
    free(line);
    return 0;
  }
  SleepMs(per_input * (argc - 1));
  return 0;
}

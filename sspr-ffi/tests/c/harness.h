/* What the C API's test programs share (test_capi.c and parity.c): CHECK and its tallies,
 * error handling, and the World of test backends, clock and engine. Compiles as C11 and as
 * C++17. */
#ifndef SSPR_TEST_HARNESS_H
#define SSPR_TEST_HARNESS_H

#include "backends.h"

static int passed, failed;
/* The case a failure belongs to, when the program replays cases (parity.c); NULL otherwise. */
static const char *check_case;

/* Count a check; print a failure with where it is, the condition and the printf-style detail. */
#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (cond) {                                                            \
      passed++;                                                            \
    } else {                                                               \
      failed++;                                                            \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                          \
      if (check_case) printf("%s: ", check_case);                          \
      printf("%s: ", #cond);                                               \
      printf(__VA_ARGS__);                                                 \
      printf("\n");                                                        \
    }                                                                      \
  } while (0)

static const char *msg(const SsprError *e) { return e ? sspr_error_message(e) : "(no error)"; }

/* Free the last call's error and forget it, before the next call that may set one. */
static inline void error_clear(SsprError **err) {
  sspr_error_free(*err);
  *err = NULL;
}

/* The test backends with the clock and the engine over them. */
typedef struct World {
  TestBackends b;
  SsprContactStoreVtable store;
  SsprClock *clock;
  SsprEngine *engine;
} World;

/* Wait until the engine (already freed) has released every backend once (directory,
 * notifier, contact store), possibly from a library thread after the last call in flight
 * ended; how many it released. */
static inline int world_released(World *w) {
  pthread_mutex_lock(&w->b.lock);
  while (w->b.released < 3) pthread_cond_wait(&w->b.changed, &w->b.lock);
  int released = w->b.released;
  pthread_mutex_unlock(&w->b.lock);
  return released;
}

#endif

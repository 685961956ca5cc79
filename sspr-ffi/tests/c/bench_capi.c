/* The C side of the FFI overhead benchmark (scripts/bench-ffi.sh): the flow of
 * examples/bench_flow.rs through the C API with the C test backends (every completion
 * finished at once, on the calling thread), blocking calls. */
#include <time.h>

#include "backends.h"

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

#define OK(call)                                   \
  do {                                             \
    SsprStatus st_ = (call);                       \
    if (st_ != SSPR_STATUS_OK) {                   \
      printf("%s: status %d\n", #call, (int)st_); \
      exit(1);                                     \
    }                                              \
  } while (0)

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 2000;
  static TestBackends b;
  SsprContactStoreVtable store;
  backends_init(&b);
  b.notify_inline = true;
  static const uint8_t key[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  static const uint8_t seed[32] = {1};
  SsprClock *clock = sspr_clock_new(1767261600);
  SsprEngineOptions o = backends_options(&b, &store);
  o.contacts = NULL; /* enrollments in the engine's memory, as in the Rust run */
  o.secret_key = key;
  o.secret_key_len = sizeof key;
  o.rng_seed = seed;
  o.rng_seed_len = sizeof seed;
  o.clock = clock;
  SsprEngine *engine = NULL;
  OK(sspr_engine_new(&o, &engine, NULL));
  OK(sspr_set_enabled(engine, "bench", "jdoe@example.org", true, NULL, NULL));
  SsprContactUpdate up;
  memset(&up, 0, sizeof up);
  up.email_change = SSPR_CHANGE_SET;
  up.email = "jane.doe@example.net";
  SsprContacts *contacts = NULL;
  OK(sspr_update_contacts(engine, "bench", "jdoe@example.org", &up, NULL, &contacts, NULL));
  sspr_contacts_free(contacts);

  double start = 0;
  for (int i = -rounds / 10; i < rounds; i++) {
    if (i == 0) start = now_us();
    SsprChallenge *c = NULL;
    OK(sspr_begin_reset(engine, "jdoe@example.org", NULL, &c, NULL));
    SsprPinSent sent;
    OK(sspr_send_pin(engine, c->flow_id, "email", NULL, NULL, &sent, NULL));
    SsprVerified *v = NULL;
    OK(sspr_verify_pin(engine, c->flow_id, b.last_pin, NULL, &v, NULL));
    sspr_verified_free(v);
    SsprResetOutcome *out = NULL;
    OK(sspr_complete_reset(engine, c->flow_id, SSPR_COMPLETION_MODE_UNLOCK_ONLY, NULL, NULL, &out, NULL));
    sspr_reset_outcome_free(out);
    sspr_challenge_free(c);
    sspr_clock_advance(clock, 3601);
  }
  double flow = (now_us() - start) / rounds;

  int calls = rounds * 10;
  start = now_us();
  for (int i = 0; i < calls; i++) {
    SsprUserStatus *s = NULL;
    OK(sspr_status(engine, "jdoe@example.org", &s, NULL));
    sspr_user_status_free(s);
  }
  double status = (now_us() - start) / calls;
  printf("c: flow %.1f us, status %.2f us\n", flow, status);
  sspr_engine_free(engine);
  sspr_clock_free(clock);
  backends_destroy(&b);
  return 0;
}

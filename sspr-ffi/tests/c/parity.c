/* tests/parity/cases.json replayed through the C API (what a C program calls:
 * sspr_engine_new, SsprRequestContext, sspr_complete_reset...), never through a test hook. The
 * rules are written once (sspr-core's wire.rs, sspr-bind); every binding must give the outcomes
 * listed there. See tests/parity/README.md for the format. Reads the JSON with jansson.
 * Prints "parity: N passed, M failed"; exits 1 on any failure.
 *
 * Names (completion_mode, channel, not_allowed_reason, backend_error_kind, authentication,
 * error_code) are read and given by sspr_enum_parse / sspr_enum_name, the C API's door to the
 * core's names: the value a name parses to is the enum value the typed calls take or give
 * (SsprCompletionMode for sspr_complete_reset, SsprStatus for every call, ...). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

static const char *LOGIN = "jdoe@example.org";
static const char *ADMIN = "parity";
static const char *POLICY =
    "{\"min_response_ms\": 0, \"allow_chosen_password\": true, \"allow_unlock_only\": true}";

static uint8_t engine_key[64];
static size_t engine_key_len;
static int64_t engine_clock;
static const char *engine_login;

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* An RFC 3339 time in UTC ("2026-03-03T09:00:00Z") as Unix seconds. */
static int64_t unix_time(const char *text) {
  int y, mo, d, h, mi, s;
  if (sscanf(text, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) != 6) {
    printf("bad time in cases.json: %s\n", text);
    exit(2);
  }
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* Hex digits to bytes (the file's own encoding of `bytes`; not a rule under test). */
static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  if (n > cap) {
    printf("bytes too long in cases.json\n");
    exit(2);
  }
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  return n;
}

/* Engine options over the test backends, the file's key and clock. */
static SsprEngineOptions options_for(World *w) {
  backends_init(&w->b);
  w->clock = sspr_clock_new(engine_clock);
  w->engine = NULL;
  SsprEngineOptions o = backends_options(&w->b, &w->store);
  o.secret_key = engine_key;
  o.secret_key_len = engine_key_len;
  o.clock = w->clock;
  return o;
}

static SsprStatus world_start(World *w, const SsprEngineOptions *o, SsprError **err) {
  return sspr_engine_new(o, &w->engine, err);
}

static void world_close(World *w) {
  if (w->engine) sspr_flush_deliveries(w->engine, NULL);
  sspr_engine_free(w->engine);
  world_released(w);
  sspr_clock_free(w->clock);
  backends_destroy(&w->b);
}

/* An engine with Jane enrolled by an administrator (e-mail usable at once). */
static void world_enrolled(World *w) {
  SsprEngineOptions o = options_for(w);
  o.policy_json = POLICY;
  SsprError *err = NULL;
  SsprStatus st = world_start(w, &o, &err);
  if (st == SSPR_STATUS_OK) st = sspr_set_enabled(w->engine, ADMIN, LOGIN, true, NULL, &err);
  SsprContactUpdate up;
  memset(&up, 0, sizeof up);
  up.email_change = SSPR_CHANGE_SET;
  up.email = "jane@home.example";
  SsprContacts *contacts = NULL;
  if (st == SSPR_STATUS_OK) st = sspr_update_contacts(w->engine, ADMIN, LOGIN, &up, NULL, &contacts, &err);
  sspr_contacts_free(contacts);
  if (st != SSPR_STATUS_OK) {
    printf("setting up the enrolled engine failed: %s\n", msg(err));
    exit(2);
  }
}

/* The outcome the case expects: an error code (NULL for success). */
static const char *expected_error(json_t *c) { return json_string_value(json_object_get(json_object_get(c, "expect"), "error")); }
static json_t *expected_value(json_t *c) { return json_object_get(json_object_get(c, "expect"), "value"); }

/* A status's stable code (NULL for SSPR_STATUS_OK): the library's name of it. */
static const char *status_code(SsprStatus st) { return sspr_enum_name(SSPR_ENUM_STATUS, (uint32_t)st); }

/* The call failed as the case expects: its code, and the field where one is listed. */
static void check_error(json_t *c, SsprStatus st, const SsprError *err) {
  const char *want = expected_error(c);
  const char *got = status_code(st);
  CHECK(got && strcmp(got, want) == 0, "want %s, got status %d: %s", want, (int)st, msg(err));
  const char *field = json_string_value(json_object_get(json_object_get(c, "expect"), "field"));
  if (field) {
    const char *got_field = sspr_error_field(err);
    CHECK(got_field && strcmp(got_field, field) == 0, "field %s, got %s", field, got_field ? got_field : "(none)");
  }
}

/* A reset with `ctx` for Jane: begin, send the PIN by e-mail, wait for it. The notice's
 * language is the locale the context picked. */
static void replay_context(json_t *c, const SsprRequestContext *ctx, const char *want_locale) {
  World w;
  world_enrolled(&w);
  SsprError *err = NULL;
  SsprChallenge *challenge = NULL;
  SsprStatus st = sspr_begin_reset(w.engine, LOGIN, ctx, &challenge, &err);
  if (expected_error(c)) {
    check_error(c, st, err);
  } else {
    CHECK(st == SSPR_STATUS_OK, "begin_reset: %s", msg(err));
    SsprPinSent sent;
    if (st == SSPR_STATUS_OK) st = sspr_send_pin(w.engine, challenge->flow_id, "email", NULL, ctx, &sent, &err);
    CHECK(st == SSPR_STATUS_OK, "send_pin: %s", msg(err));
    if (st == SSPR_STATUS_OK && want_locale) {
      sspr_flush_deliveries(w.engine, NULL);
      bool german = strstr(w.b.last_body, "Ihr Code") != NULL;
      CHECK(german == (strcmp(want_locale, "de") == 0), "locale %s, the notice: %.60s", want_locale, w.b.last_body);
    }
  }
  sspr_error_free(err);
  sspr_challenge_free(challenge);
  world_close(&w);
}

static void replay_locale(json_t *c) {
  SsprRequestContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.locale = json_string_value(json_object_get(c, "input"));
  replay_context(c, &ctx, json_string_value(expected_value(c)));
}

static void replay_accept_language(json_t *c) {
  SsprRequestContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.accept_language = json_string_value(json_object_get(c, "input"));
  replay_context(c, &ctx, json_string_value(expected_value(c)));
}

/* The address is not given back by the C API: the calls that use it must succeed (or fail as
 * listed). */
static void replay_client_ip(json_t *c) {
  SsprRequestContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.client_ip = json_string_value(json_object_get(c, "input"));
  replay_context(c, &ctx, NULL);
}

static void replay_request_context(json_t *c) {
  json_t *in = json_object_get(c, "input");
  SsprRequestContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.client_ip = json_string_value(json_object_get(in, "client_ip"));
  ctx.accept_language = json_string_value(json_object_get(in, "accept_language"));
  ctx.locale = json_string_value(json_object_get(in, "locale"));
  replay_context(c, &ctx, json_string_value(json_object_get(expected_value(c), "locale")));
}

/* A mode's name as the C enum's value (sspr_enum_parse); a name the enum does not have is a
 * value outside it, which sspr_complete_reset must refuse itself. */
static uint32_t mode_value(const char *name) {
  uint32_t value = 99;
  if (sspr_enum_parse(SSPR_ENUM_COMPLETION_MODE, name, &value, NULL) != SSPR_STATUS_OK) value = 99;
  return value;
}

static void replay_new_password(json_t *c) {
  json_t *in = json_object_get(c, "input");
  World w;
  world_enrolled(&w);
  SsprError *err = NULL;
  SsprChallenge *challenge = NULL;
  SsprStatus st = sspr_begin_reset(w.engine, LOGIN, NULL, &challenge, &err);
  SsprPinSent sent;
  if (st == SSPR_STATUS_OK) st = sspr_send_pin(w.engine, challenge->flow_id, "email", NULL, NULL, &sent, &err);
  if (st == SSPR_STATUS_OK) st = sspr_flush_deliveries(w.engine, &err);
  SsprVerified *verified = NULL;
  if (st == SSPR_STATUS_OK) st = sspr_verify_pin(w.engine, challenge->flow_id, w.b.last_pin, NULL, &verified, &err);
  CHECK(st == SSPR_STATUS_OK, "a verified flow: %s", msg(err));
  sspr_verified_free(verified);
  if (st == SSPR_STATUS_OK) {
    SsprResetOutcome *outcome = NULL;
    const char *password = json_string_value(json_object_get(in, "password"));
    st = sspr_complete_reset(w.engine, challenge->flow_id, mode_value(json_string_value(json_object_get(in, "mode"))),
                             password, NULL, &outcome, &err);
    if (expected_error(c)) {
      check_error(c, st, err);
    } else {
      const char *mode = json_string_value(expected_value(c));
      CHECK(st == SSPR_STATUS_OK, "complete_reset: %s", msg(err));
      if (outcome) {
        bool temporary = outcome->temporary_password != NULL;
        CHECK(temporary == (strcmp(mode, "temporary") == 0), "mode %s, temporary password %d", mode, temporary);
        CHECK(outcome->must_change == (strcmp(mode, "temporary") == 0), "mode %s, must_change %d", mode,
              outcome->must_change);
      }
    }
    sspr_reset_outcome_free(outcome);
  }
  sspr_error_free(err);
  sspr_challenge_free(challenge);
  world_close(&w);
}

/* An admin-only operation: with an administrator it is done; as the user (no id) it is
 * refused as admin-only. */
static void replay_actor(json_t *c) {
  World w;
  world_enrolled(&w);
  const char *admin = json_string_value(json_object_get(json_object_get(c, "input"), "admin"));
  SsprError *err = NULL;
  SsprStatus st = sspr_set_enabled(w.engine, admin, LOGIN, true, NULL, &err);
  if (expected_error(c)) {
    check_error(c, st, err);
  } else if (strcmp(json_string_value(json_object_get(expected_value(c), "type")), "admin") == 0) {
    CHECK(st == SSPR_STATUS_OK, "as an administrator: %s", msg(err));
  } else {
    CHECK(st == SSPR_STATUS_NOT_ALLOWED && sspr_error_not_allowed_reason(err) == SSPR_NOT_ALLOWED_REASON_ADMIN_ONLY,
          "as the user: status %d %s", (int)st, msg(err));
  }
  sspr_error_free(err);
  world_close(&w);
}

/* Build the engine from `o` as the case lists: refused with its error, or built. True when
 * built (the case then goes on with `w->engine`). */
static bool start_as_listed(json_t *c, World *w, const SsprEngineOptions *o) {
  SsprError *err = NULL;
  SsprStatus st = world_start(w, o, &err);
  if (expected_error(c)) {
    check_error(c, st, err);
  } else {
    CHECK(st == SSPR_STATUS_OK, "engine_new: %s", msg(err));
  }
  sspr_error_free(err);
  return st == SSPR_STATUS_OK && !expected_error(c);
}

/* The first flow id of an engine built with a seed: the one the case lists. */
static void check_first_flow(json_t *c, World *w) {
  SsprError *err = NULL;
  SsprChallenge *challenge = NULL;
  SsprStatus st = sspr_begin_reset(w->engine, engine_login, NULL, &challenge, &err);
  CHECK(st == SSPR_STATUS_OK, "begin_reset: %s", msg(err));
  const char *want = json_string_value(json_object_get(expected_value(c), "first_flow_id"));
  if (challenge) CHECK(strcmp(challenge->flow_id, want) == 0, "flow id %s, want %s", challenge->flow_id, want);
  sspr_challenge_free(challenge);
  sspr_error_free(err);
}

/* A secret key (`key`) or a generator seed, given as `hex` text or as `bytes`: the engine is
 * built or refused as the case lists; a seed then gives the listed first flow id. */
static void replay_material(json_t *c, bool key) {
  json_t *in = json_object_get(c, "input");
  World w;
  SsprEngineOptions o = options_for(&w);
  uint8_t bytes[2048];
  const char *hex = json_string_value(json_object_get(in, "hex"));
  size_t len = hex ? 0 : unhex(json_string_value(json_object_get(in, "bytes")), bytes, sizeof bytes);
  if (key) {
    o.secret_key_hex = hex;
    o.secret_key = hex ? NULL : bytes;
    o.secret_key_len = len;
  } else {
    o.rng_seed_hex = hex;
    o.rng_seed = hex ? NULL : bytes;
    o.rng_seed_len = len;
  }
  if (start_as_listed(c, &w, &o) && !key) check_first_flow(c, &w);
  world_close(&w);
}

static void replay_secret_key(json_t *c) { replay_material(c, true); }
static void replay_rng_seed(json_t *c) { replay_material(c, false); }

/* The policy is not given back by the C API: an engine must be built with it (or refused as
 * listed). */
static void replay_policy(json_t *c) {
  json_t *in = json_object_get(c, "input");
  World w;
  SsprEngineOptions o = options_for(&w);
  const char *text = json_string_value(json_object_get(in, "text"));
  if (strcmp(json_string_value(json_object_get(in, "format")), "toml") == 0) {
    o.policy_toml = text;
  } else {
    o.policy_json = text;
  }
  start_as_listed(c, &w, &o);
  world_close(&w);
}

/* One contact of the stored record into the C store's fields. */
static void set_contact(json_t *contact, char *value, size_t cap, int64_t *added_at, int64_t *usable_from) {
  value[0] = '\0';
  if (!json_is_object(contact)) return;
  snprintf(value, cap, "%s", json_string_value(json_object_get(contact, "value")));
  *added_at = unix_time(json_string_value(json_object_get(contact, "added_at")));
  *usable_from = unix_time(json_string_value(json_object_get(contact, "usable_from")));
}

/* The record a C contact store returns; `sspr_contacts` then reads it through the engine. */
static void replay_enrollment(json_t *c) {
  json_t *in = json_object_get(c, "input");
  World w;
  SsprEngineOptions o = options_for(&w);
  SsprError *err = NULL;
  SsprStatus st = world_start(&w, &o, &err);
  CHECK(st == SSPR_STATUS_OK, "engine_new: %s", msg(err));
  TestUser *u = &w.b.users[0];
  pthread_mutex_lock(&w.b.lock);
  u->has_record = true;
  u->enabled = json_is_true(json_object_get(in, "enabled"));
  set_contact(json_object_get(in, "email"), u->email, sizeof u->email, &u->email_added_at, &u->email_usable_from);
  set_contact(json_object_get(in, "phone"), u->phone, sizeof u->phone, &u->phone_added_at, &u->phone_usable_from);
  const char *last_reset = json_string_value(json_object_get(in, "last_reset_at"));
  u->has_last_reset = last_reset != NULL;
  if (last_reset) u->last_reset_at = unix_time(last_reset);
  const char *history = json_string_value(json_object_get(in, "history"));
  snprintf(u->history, sizeof u->history, "%s", history ? history : "");
  u->version = (uint64_t)json_integer_value(json_object_get(in, "version"));
  pthread_mutex_unlock(&w.b.lock);
  SsprContacts *contacts = NULL;
  if (st == SSPR_STATUS_OK) st = sspr_contacts(w.engine, LOGIN, &contacts, &err);
  json_t *expect = json_object_get(c, "expect");
  if (expected_error(c)) {
    check_error(c, st, err);
    const char *kind = json_string_value(json_object_get(expect, "backend_kind"));
    if (kind && strcmp(kind, "rejected") == 0) {
      CHECK(sspr_error_backend_kind(err) == SSPR_BACKEND_ERROR_KIND_REJECTED, "kind %d",
            (int)sspr_error_backend_kind(err));
    }
    const char *part = json_string_value(json_object_get(expect, "part"));
    char names[64];
    snprintf(names, sizeof names, "invalid enrollment: %s:", part ? part : "");
    CHECK(part && strstr(msg(err), names) != NULL, "names the part %s: %s", part, msg(err));
  } else {
    CHECK(st == SSPR_STATUS_OK && contacts, "contacts: %s", msg(err));
    json_t *value = expected_value(c);
    if (contacts) {
      const char *email = json_string_value(json_object_get(value, "email"));
      const char *phone = json_string_value(json_object_get(value, "phone"));
      CHECK(email ? contacts->email && strcmp(contacts->email, email) == 0 : contacts->email == NULL, "email %s",
            contacts->email ? contacts->email : "(none)");
      CHECK(phone ? contacts->phone && strcmp(contacts->phone, phone) == 0 : contacts->phone == NULL, "phone %s",
            contacts->phone ? contacts->phone : "(none)");
    }
  }
  sspr_contacts_free(contacts);
  sspr_error_free(err);
  world_close(&w);
}

/* A name read into its enum value and given back: the value's name is the case's value. */
static void replay_name(json_t *c, SsprEnum kind) {
  uint32_t value = 12345;
  SsprError *err = NULL;
  SsprStatus st = sspr_enum_parse(kind, json_string_value(json_object_get(c, "input")), &value, &err);
  if (expected_error(c)) {
    check_error(c, st, err);
  } else {
    const char *want = json_string_value(expected_value(c));
    const char *got = st == SSPR_STATUS_OK ? sspr_enum_name(kind, value) : NULL;
    CHECK(got && strcmp(got, want) == 0, "want %s, got %s (%s)", want, got ? got : "(none)", msg(err));
  }
  sspr_error_free(err);
}

static void replay_completion_mode(json_t *c) { replay_name(c, SSPR_ENUM_COMPLETION_MODE); }
static void replay_channel(json_t *c) { replay_name(c, SSPR_ENUM_CHANNEL); }
static void replay_not_allowed_reason(json_t *c) { replay_name(c, SSPR_ENUM_NOT_ALLOWED_REASON); }
static void replay_backend_error_kind(json_t *c) { replay_name(c, SSPR_ENUM_BACKEND_ERROR_KIND); }
static void replay_authentication(json_t *c) { replay_name(c, SSPR_ENUM_AUTHENTICATION); }

/* The status each sspr_core::Error variant is reported with (what this test knows of the C
 * API): its code is the library's name of that status, and the name reads back as it. */
static const struct {
  const char *variant;
  SsprStatus status;
} STATUSES[] = {
    {"InvalidInput", SSPR_STATUS_INVALID_INPUT}, {"WrongPin", SSPR_STATUS_WRONG_PIN},
    {"PinVoided", SSPR_STATUS_PIN_VOIDED},       {"Expired", SSPR_STATUS_EXPIRED},
    {"AlreadyUsed", SSPR_STATUS_ALREADY_USED},   {"InvalidState", SSPR_STATUS_INVALID_STATE},
    {"RateLimited", SSPR_STATUS_RATE_LIMITED},   {"Blocked", SSPR_STATUS_BLOCKED},
    {"NotAllowed", SSPR_STATUS_NOT_ALLOWED},     {"PasswordRejected", SSPR_STATUS_PASSWORD_REJECTED},
    {"SignInFailed", SSPR_STATUS_SIGN_IN_FAILED}, {"UnknownUser", SSPR_STATUS_UNKNOWN_USER},
    {"Config", SSPR_STATUS_CONFIG},              {"Backend", SSPR_STATUS_BACKEND},
    {"Challenge", SSPR_STATUS_CHALLENGE},
};

static void replay_error_code(json_t *c) {
  const char *variant = json_string_value(json_object_get(c, "input"));
  const char *want = json_string_value(expected_value(c));
  size_t i = 0;
  while (i < sizeof STATUSES / sizeof STATUSES[0] && strcmp(STATUSES[i].variant, variant) != 0) i++;
  CHECK(i < sizeof STATUSES / sizeof STATUSES[0], "no C status for the variant %s", variant);
  if (i == sizeof STATUSES / sizeof STATUSES[0]) return;
  const char *got = status_code(STATUSES[i].status);
  CHECK(got && strcmp(got, want) == 0, "want %s, got %s", want, got ? got : "(none)");
  uint32_t back = 0;
  SsprStatus st = sspr_enum_parse(SSPR_ENUM_STATUS, want, &back, NULL);
  CHECK(st == SSPR_STATUS_OK && back == (uint32_t)STATUSES[i].status, "%s reads back as %u", want, back);
}

typedef struct Replay {
  const char *kind;
  void (*replay)(json_t *c);
} Replay;

static const Replay REPLAYS[] = {
    {"locale", replay_locale},
    {"accept_language", replay_accept_language},
    {"client_ip", replay_client_ip},
    {"request_context", replay_request_context},
    {"new_password", replay_new_password},
    {"actor", replay_actor},
    {"secret_key", replay_secret_key},
    {"rng_seed", replay_rng_seed},
    {"policy", replay_policy},
    {"enrollment", replay_enrollment},
    {"completion_mode", replay_completion_mode},
    {"channel", replay_channel},
    {"not_allowed_reason", replay_not_allowed_reason},
    {"backend_error_kind", replay_backend_error_kind},
    {"authentication", replay_authentication},
    {"error_code", replay_error_code},
};

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc != 2) {
    printf("usage: parity <tests/parity/cases.json>\n");
    return 2;
  }
  json_error_t error;
  json_t *root = json_load_file(argv[1], JSON_REJECT_DUPLICATES, &error);
  if (!root) {
    printf("%s: %s (line %d)\n", argv[1], error.text, error.line);
    return 2;
  }
  json_t *engine = json_object_get(root, "engine");
  engine_key_len = unhex(json_string_value(json_object_get(engine, "secret_key_hex")), engine_key, sizeof engine_key);
  engine_clock = unix_time(json_string_value(json_object_get(engine, "clock")));
  engine_login = json_string_value(json_object_get(engine, "login"));
  size_t index;
  json_t *c;
  int replayed = 0;
  json_array_foreach(json_object_get(root, "cases"), index, c) {
    check_case = json_string_value(json_object_get(c, "id"));
    const char *kind = json_string_value(json_object_get(c, "kind"));
    bool done = false;
    for (size_t i = 0; i < sizeof REPLAYS / sizeof REPLAYS[0]; i++) {
      if (strcmp(REPLAYS[i].kind, kind) == 0) {
        REPLAYS[i].replay(c);
        replayed++;
        done = true;
      }
    }
    /* A new kind needs a replay here. */
    CHECK(done, "no replay for kind %s", kind);
  }
  check_case = "(all)";
  CHECK(replayed > 100, "%d cases replayed", replayed);
  json_decref(root);
  sspr_shutdown();
  printf("parity: %d cases replayed\n", replayed);
  printf("parity: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

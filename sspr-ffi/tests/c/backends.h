/* Test backends written in C against sspr.h: a directory of two users, a contact store,
 * and a notifier that delivers from a thread of its own (the completion is finished from
 * that thread). Shared by test_capi.c and parity.c (through harness.h), the Go test and the
 * benchmark. Compiles as C11 and as C++17. */
#ifndef SSPR_TEST_BACKENDS_H
#define SSPR_TEST_BACKENDS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sspr.h"

#define MAX_THREADS 256
#define MAX_USERS 2

typedef struct TestUser {
  const char *id;
  const char *login;
  const char *display_name;
  const char *dn;
  const char *groups[2];
  size_t groups_len;
  char password[128];
  char previous[128]; /* the password before the last change (a history of one) */
  bool must_change;
  bool locked;
  const char *mail; /* the directory mailbox, or NULL */
  /* the contact store's record */
  bool has_record;
  bool enabled;
  char email[128];
  int64_t email_added_at, email_usable_from;
  char phone[64];
  int64_t phone_added_at, phone_usable_from;
  bool has_last_reset;
  int64_t last_reset_at;
  uint64_t version;
  char history[2048];
} TestUser;

typedef struct TestBackends {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  TestUser users[MAX_USERS];
  bool directory_down;      /* find_user fails with UNAVAILABLE */
  int misbehave;            /* find_user: 1 finishes with the wrong call, 2 with a NULL login, 3 bad UTF-8,
                               4 with an error whose message is not UTF-8 */
  int released;             /* release() calls seen */
  int changes;              /* change_password calls that changed a password */
  /* notifier */
  bool notify_inline;       /* complete on the calling thread instead of a new one */
  int notify_delay_ms;      /* a slow notifier: each delivery first waits this long */
  pthread_t threads[MAX_THREADS];
  int thread_count;
  int sent;                 /* notices delivered */
  char last_to[128];
  char last_pin[32];
  int last_kind;
  char last_recovery_code[32]; /* the last SSPR_MESSAGE_KIND_RECOVERY_CODE's digits */
  char last_body[1024];
} TestBackends;

static void backends_init(TestBackends *b) {
  memset(b, 0, sizeof *b);
  pthread_mutex_init(&b->lock, NULL);
  pthread_cond_init(&b->changed, NULL);
  TestUser *u = &b->users[0];
  u->id = "uid=jdoe,ou=staff,dc=example,dc=org";
  u->login = "jdoe@example.org";
  u->display_name = "Jane Doe";
  u->dn = u->id;
  u = &b->users[1];
  u->id = "uid=root,ou=admins,dc=example,dc=org";
  u->login = "root@example.org";
  u->display_name = "Root Admin";
  u->dn = u->id;
  u->groups[0] = "Domain Admins";
  u->groups_len = 1;
}

/* Join the notifier's threads and free the locks. */
static void backends_destroy(TestBackends *b) {
  pthread_mutex_lock(&b->lock);
  int n = b->thread_count;
  b->thread_count = 0;
  pthread_mutex_unlock(&b->lock);
  for (int i = 0; i < n; i++) pthread_join(b->threads[i], NULL);
  pthread_mutex_destroy(&b->lock);
  pthread_cond_destroy(&b->changed);
}

static TestUser *user_by(TestBackends *b, const char *key, bool by_login) {
  for (int i = 0; i < MAX_USERS; i++) {
    if (strcmp(by_login ? b->users[i].login : b->users[i].id, key) == 0) return &b->users[i];
  }
  return NULL;
}

static void dir_find_user(void *ctx, const char *login, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  bool down = b->directory_down;
  TestUser *u = user_by(b, login, true);
  SsprDirectoryUser out;
  memset(&out, 0, sizeof out);
  if (u) {
    out.id = u->id;
    out.login = u->login;
    out.display_name = u->display_name;
    out.dn = u->dn;
    out.groups = u->groups;
    out.groups_len = u->groups_len;
    out.locked = u->locked;
    out.mail = u->mail;
  }
  int misbehave = b->misbehave;
  pthread_mutex_unlock(&b->lock);
  if (misbehave == 1) {
    sspr_complete_ok(done);
  } else if (misbehave == 2 || misbehave == 3) {
    out.login = misbehave == 2 ? NULL : "j\xff@example.org";
    b->last_kind = (int)sspr_complete_user(done, &out); /* the status the finisher returned */
  } else if (misbehave == 4) {
    b->last_kind = (int)sspr_complete_error(done, SSPR_BACKEND_ERROR_KIND_UNAVAILABLE, "relay \xff down");
  } else if (down) {
    sspr_complete_error(done, SSPR_BACKEND_ERROR_KIND_UNAVAILABLE, "directory unreachable");
  } else {
    sspr_complete_user(done, u ? &out : NULL);
  }
}

static void dir_set_password(void *ctx, const char *user_id, const char *password, bool must_change,
                             SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  int ok = u && strlen(password) >= 8 && strlen(password) < sizeof u->password;
  if (ok) {
    strcpy(u->password, password);
    u->must_change = must_change;
  }
  pthread_mutex_unlock(&b->lock);
  if (ok) {
    sspr_complete_ok(done);
  } else {
    sspr_complete_error(done, SSPR_BACKEND_ERROR_KIND_PASSWORD_REJECTED, "the password is too short");
  }
}

/* A user's own change: the current password checked here, a history of one, at least 8
 * characters; works for a must-change (temporary) password and clears the flag. */
static void dir_change_password(void *ctx, const char *user_id, const char *current, const char *new_password,
                                SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  uint32_t refusal = SSPR_PASSWORD_REFUSAL_NONE;
  const char *why = NULL;
  if (!u || !u->password[0] || u->locked || strcmp(u->password, current) != 0) {
    refusal = SSPR_PASSWORD_REFUSAL_WRONG_CURRENT_PASSWORD;
    why = "the current password is not right";
  } else if (strlen(new_password) < 8 || strlen(new_password) >= sizeof u->password) {
    refusal = SSPR_PASSWORD_REFUSAL_TOO_SHORT;
    why = "the directory wants at least 8 characters";
  } else if (strcmp(u->previous, new_password) == 0) {
    refusal = SSPR_PASSWORD_REFUSAL_IN_HISTORY;
    why = "the directory remembers that password";
  } else {
    strcpy(u->previous, u->password);
    strcpy(u->password, new_password);
    u->must_change = false;
    b->changes++;
  }
  pthread_mutex_unlock(&b->lock);
  if (why) {
    sspr_complete_password_refused(done, refusal, why);
  } else {
    sspr_complete_ok(done);
  }
}

static void dir_unlock(void *ctx, const char *user_id, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  if (u) u->locked = false;
  pthread_mutex_unlock(&b->lock);
  sspr_complete_ok(done);
}

static void dir_authenticate(void *ctx, const char *user_id, const char *password, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  uint32_t outcome = SSPR_AUTHENTICATION_REJECTED;
  if (u && u->password[0] && strcmp(u->password, password) == 0) {
    outcome = u->must_change ? SSPR_AUTHENTICATION_MUST_CHANGE : SSPR_AUTHENTICATION_ACCEPTED;
  }
  pthread_mutex_unlock(&b->lock);
  sspr_complete_authentication(done, outcome);
}

static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && (hay[i] | 32) == (needle[i] | 32)) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static void dir_search(void *ctx, const char *query, size_t limit, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  SsprDirectoryUser found[MAX_USERS];
  size_t n = 0;
  pthread_mutex_lock(&b->lock);
  for (int i = 0; i < MAX_USERS && n < limit; i++) {
    TestUser *u = &b->users[i];
    if (contains_ci(u->login, query) || contains_ci(u->display_name, query)) {
      memset(&found[n], 0, sizeof found[n]);
      found[n].id = u->id;
      found[n].login = u->login;
      found[n].display_name = u->display_name;
      found[n].dn = u->dn;
      found[n].groups = u->groups;
      found[n].groups_len = u->groups_len;
      found[n].locked = u->locked;
      found[n].mail = u->mail;
      n++;
    }
  }
  sspr_complete_users(done, n ? found : NULL, n); /* copies: complete under our lock */
  pthread_mutex_unlock(&b->lock);
}

static void backend_release(void *ctx) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  b->released++;
  pthread_cond_broadcast(&b->changed);
  pthread_mutex_unlock(&b->lock);
}

static void store_get(void *ctx, const char *user_id, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  SsprEnrollment e;
  memset(&e, 0, sizeof e);
  bool found = u && u->has_record;
  if (found) {
    e.enabled = u->enabled;
    e.email = u->email[0] ? u->email : NULL;
    e.email_added_at = u->email_added_at;
    e.email_usable_from = u->email_usable_from;
    e.phone = u->phone[0] ? u->phone : NULL;
    e.phone_added_at = u->phone_added_at;
    e.phone_usable_from = u->phone_usable_from;
    e.has_last_reset = u->has_last_reset;
    e.last_reset_at = u->last_reset_at;
    e.version = u->version;
    e.history = u->history[0] ? u->history : NULL;
  }
  /* sspr_complete_enrollment copies: complete while the strings are still ours. */
  sspr_complete_enrollment(done, found ? &e : NULL);
  pthread_mutex_unlock(&b->lock);
}

static void store_save(void *ctx, const char *user_id, const SsprEnrollment *e, uint64_t expected_version,
                       SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  pthread_mutex_lock(&b->lock);
  TestUser *u = user_by(b, user_id, false);
  bool stored = false;
  if (u && (u->has_record ? u->version : 0) == expected_version) {
    u->has_record = true;
    u->enabled = e->enabled;
    snprintf(u->email, sizeof u->email, "%s", e->email ? e->email : "");
    u->email_added_at = e->email_added_at;
    u->email_usable_from = e->email_usable_from;
    snprintf(u->phone, sizeof u->phone, "%s", e->phone ? e->phone : "");
    u->phone_added_at = e->phone_added_at;
    u->phone_usable_from = e->phone_usable_from;
    u->has_last_reset = e->has_last_reset;
    u->last_reset_at = e->last_reset_at;
    u->version = expected_version + 1;
    snprintf(u->history, sizeof u->history, "%s", e->history ? e->history : "");
    stored = true;
  }
  pthread_mutex_unlock(&b->lock);
  sspr_complete_bool(done, stored);
}

typedef struct Delivery {
  TestBackends *b;
  SsprCompletion *done;
  char to[128];
  char pin[32];
  int kind;
  char body[1024];
  int delay_ms;
} Delivery;

static void deliver(Delivery *d) {
  TestBackends *b = d->b;
  if (d->delay_ms > 0) {
    struct timespec pause = {d->delay_ms / 1000, (long)(d->delay_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
  }
  pthread_mutex_lock(&b->lock);
  b->sent++;
  strcpy(b->last_to, d->to);
  strcpy(b->last_pin, d->pin);
  b->last_kind = d->kind;
  if (d->kind == SSPR_MESSAGE_KIND_RECOVERY_CODE) strcpy(b->last_recovery_code, d->pin);
  strcpy(b->last_body, d->body);
  pthread_cond_broadcast(&b->changed);
  pthread_mutex_unlock(&b->lock);
  sspr_complete_ok(d->done);
  memset(d, 0, sizeof *d); /* wipe the PIN */
  free(d);
}

static void *deliver_thread(void *arg) {
  deliver((Delivery *)arg);
  return NULL;
}

static void notifier_send(void *ctx, const SsprNotification *n, SsprCompletion *done) {
  TestBackends *b = (TestBackends *)ctx;
  Delivery *d = (Delivery *)calloc(1, sizeof *d);
  if (!d) {
    sspr_complete_error(done, SSPR_BACKEND_ERROR_KIND_OTHER, "out of memory");
    return;
  }
  d->b = b;
  d->done = done;
  snprintf(d->to, sizeof d->to, "%s", n->to);
  snprintf(d->pin, sizeof d->pin, "%s", n->pin ? n->pin : "");
  snprintf(d->body, sizeof d->body, "%s", n->body);
  d->kind = (int)n->kind;
  pthread_mutex_lock(&b->lock);
  bool inline_ = b->notify_inline || b->thread_count >= MAX_THREADS;
  d->delay_ms = b->notify_delay_ms;
  pthread_mutex_unlock(&b->lock);
  if (inline_) {
    deliver(d);
    return;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, deliver_thread, d) != 0) {
    deliver(d);
    return;
  }
  pthread_mutex_lock(&b->lock);
  b->threads[b->thread_count++] = t;
  pthread_mutex_unlock(&b->lock);
}

/* Options wiring every test backend to `b`. */
static SsprEngineOptions backends_options(TestBackends *b, SsprContactStoreVtable *store) {
  SsprEngineOptions o;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.directory.ctx = b;
  o.directory.find_user = dir_find_user;
  o.directory.set_password = dir_set_password;
  o.directory.unlock = dir_unlock;
  o.directory.authenticate = dir_authenticate;
  o.directory.search = dir_search;
  o.directory.release = backend_release;
  o.directory.change_password = dir_change_password;
  o.notifier.ctx = b;
  o.notifier.send = notifier_send;
  o.notifier.release = backend_release;
  memset(store, 0, sizeof *store);
  store->ctx = b;
  store->get = store_get;
  store->save = store_save;
  store->release = backend_release;
  o.contacts = store;
  return o;
}

#endif

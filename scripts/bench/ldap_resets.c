/* The same password resets sspr's LdapDirectory::set_password makes, from libldap (OpenLDAP's own
 * C client library): what the server can do, the limit sspr is compared with in
 * scripts/bench/ldap-vs-limit.sh. One thread per connection in flight, each bound once as the
 * service account (as sspr's pool is), resetting its own user (two sets of one entry at once race
 * in ppolicy's history bookkeeping, which is not what this measures).
 *
 * Modes (what one reset is, on the wire):
 *   openldap  Password Modify extended operation (RFC 3062), then a modify setting pwdReset:
 *             exactly sspr's two operations for Flavor::OpenLdap
 *   modify    one modify of userPassword + pwdReset (slapd hashes it with ppolicy_hash_cleartext):
 *             the cheapest reset this slapd accepts, for reference
 *   ad        one modify of unicodePwd + pwdLastSet 0: exactly sspr's operation for
 *             Flavor::ActiveDirectory
 *
 * Usage: ldap_resets MODE URL STARTTLS(0|1) CA BIND_DN BIND_PW USER_DN_FORMAT USERS RESETS IN_FLIGHT TAG
 * USER_DN_FORMAT has one %d, the user's number. Prints one line:
 *   c-MODE resets=N in_flight=K seconds=S per_sec=R
 * Build: gcc -O2 -pthread ldap_resets.c -lldap -llber */
#define LDAP_DEPRECATED 0
#include <lber.h>
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *mode, *url, *ca, *bind_dn, *bind_pw, *dn_format, *tag;
static int starttls, users, resets, in_flight;
static atomic_int next_reset;

static void die(const char *what, int rc) {
  fprintf(stderr, "ldap_resets: %s: %s (%d)\n", what, ldap_err2string(rc), rc);
  exit(1);
}

static LDAP *connect_bound(void) {
  LDAP *ld = NULL;
  int rc = ldap_initialize(&ld, url);
  if (rc != LDAP_SUCCESS) die("ldap_initialize", rc);
  int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
  int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
  ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, ca);
  ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
  ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
  if (starttls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) die("StartTLS", rc);
  struct berval cred = {strlen(bind_pw), (char *)bind_pw};
  rc = ldap_sasl_bind_s(ld, bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
  if (rc != LDAP_SUCCESS) die("service account bind", rc);
  return ld;
}

/* AD's unicodePwd: the password in double quotes, UTF-16LE (the passwords here are ASCII). */
static struct berval ad_password(const char *password, char *buf, size_t cap) {
  size_t n = 0;
  const char *p = password;
  buf[n++] = '"', buf[n++] = 0;
  while (*p && n + 4 <= cap) buf[n++] = *p++, buf[n++] = 0;
  buf[n++] = '"', buf[n++] = 0;
  return (struct berval){n, buf};
}

static void reset(LDAP *ld, int user, int i) {
  char dn[512], password[128];
  snprintf(dn, sizeof dn, dn_format, user);
  snprintf(password, sizeof password, "Bench-%s-c%s-%d-Pw1!", tag, mode, i);
  int rc;
  if (strcmp(mode, "openldap") == 0) {
    struct berval who = {strlen(dn), dn}, pw = {strlen(password), password}, generated = {0, NULL};
    rc = ldap_passwd_s(ld, &who, NULL, &pw, &generated, NULL, NULL);
    if (rc != LDAP_SUCCESS) die("password modify", rc);
    ber_memfree(generated.bv_val); /* a password the server made up: none when one is given */
    char *flag_values[] = {"TRUE", NULL};
    LDAPMod flag = {LDAP_MOD_REPLACE, "pwdReset", {.modv_strvals = flag_values}};
    LDAPMod *mods[] = {&flag, NULL};
    rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
    if (rc != LDAP_SUCCESS) die("modify pwdReset", rc);
  } else if (strcmp(mode, "modify") == 0) {
    char *pw_values[] = {password, NULL}, *flag_values[] = {"TRUE", NULL};
    LDAPMod pw = {LDAP_MOD_REPLACE, "userPassword", {.modv_strvals = pw_values}};
    LDAPMod flag = {LDAP_MOD_REPLACE, "pwdReset", {.modv_strvals = flag_values}};
    LDAPMod *mods[] = {&pw, &flag, NULL};
    rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
    if (rc != LDAP_SUCCESS) die("modify userPassword", rc);
  } else {
    char buf[300];
    struct berval value = ad_password(password, buf, sizeof buf);
    struct berval *pw_values[] = {&value, NULL};
    char *last_set_values[] = {"0", NULL};
    LDAPMod pw = {LDAP_MOD_REPLACE | LDAP_MOD_BVALUES, "unicodePwd", {.modv_bvals = pw_values}};
    LDAPMod last_set = {LDAP_MOD_REPLACE, "pwdLastSet", {.modv_strvals = last_set_values}};
    LDAPMod *mods[] = {&pw, &last_set, NULL};
    rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
    if (rc != LDAP_SUCCESS) die("modify unicodePwd", rc);
  }
}

static LDAP **conns;

static void *worker(void *arg) {
  int w = (int)(long)arg;
  for (int i; (i = atomic_fetch_add(&next_reset, 1)) < resets;) reset(conns[w], w % users, i);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 12) {
    fprintf(stderr,
            "usage: ldap_resets MODE URL STARTTLS CA BIND_DN BIND_PW USER_DN_FORMAT USERS RESETS IN_FLIGHT TAG\n");
    return 2;
  }
  mode = argv[1], url = argv[2], starttls = atoi(argv[3]), ca = argv[4], bind_dn = argv[5], bind_pw = argv[6];
  dn_format = argv[7], users = atoi(argv[8]), resets = atoi(argv[9]), in_flight = atoi(argv[10]), tag = argv[11];
  if (strcmp(mode, "openldap") && strcmp(mode, "modify") && strcmp(mode, "ad")) {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  if (in_flight < 1 || users < in_flight) {
    fprintf(stderr, "need 1 <= IN_FLIGHT <= USERS\n");
    return 2;
  }
  /* Connected, bound and one reset each before the clock starts, as sspr's pool is warmed. */
  conns = calloc((size_t)in_flight, sizeof *conns);
  for (int w = 0; w < in_flight; w++) {
    conns[w] = connect_bound();
    reset(conns[w], w % users, -1 - w);
  }
  pthread_t *threads = calloc((size_t)in_flight, sizeof *threads);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int w = 0; w < in_flight; w++) pthread_create(&threads[w], NULL, worker, (void *)(long)w);
  for (int w = 0; w < in_flight; w++) pthread_join(threads[w], NULL);
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
  printf("c-%s resets=%d in_flight=%d seconds=%.3f per_sec=%.1f\n", mode, resets, in_flight, seconds,
         resets / seconds);
  for (int w = 0; w < in_flight; w++) ldap_unbind_ext_s(conns[w], NULL, NULL);
  free(conns);
  free(threads);
  return 0;
}

// The C API from Go (cgo, against include/sspr.h): one whole reset flow, and the shared test
// vectors (tests/vectors/*.json) replayed through the C API's wrappers of sspr-core's pure
// functions. The backends are the C test backends (tests/c/backends.h); Go drives the engine.
//
// Run by scripts/test.d/60-ffi.sh: go run . <path to tests/vectors>
package main

/*
#cgo CFLAGS: -std=c11 -Wall -Werror
#include <stdlib.h>
#include "backends.h"

static TestBackends backends;
static SsprContactStoreVtable store;
static const uint8_t key[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static enum SsprStatus open_engine(SsprEngine **engine, SsprError **err) {
  backends_init(&backends);
  SsprEngineOptions o = backends_options(&backends, &store);
  o.secret_key = key;
  o.secret_key_len = sizeof key;
  return sspr_engine_new(&o, engine, err);
}

static void wait_pin(char *out) {
  pthread_mutex_lock(&backends.lock);
  while (backends.sent < 1) pthread_cond_wait(&backends.changed, &backends.lock);
  strcpy(out, backends.last_pin);
  pthread_mutex_unlock(&backends.lock);
}

static const char *directory_password(void) { return backends.users[0].password; }
static void close_backends(void) { backends_destroy(&backends); }
static char *list_item(SsprStringList *l, size_t i) { return l->items[i]; }
*/
import "C"

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unsafe"
)

var passed, failed int

func check(ok bool, format string, args ...any) {
	if ok {
		passed++
		return
	}
	failed++
	fmt.Printf("FAIL "+format+"\n", args...)
}

// cstr makes a C string; the caller frees it with free.
func cstr(s string) *C.char { return C.CString(s) }
func free(p *C.char)        { C.free(unsafe.Pointer(p)) }

// errText takes the error's message and frees it.
func errText(e *C.SsprError) (string, string) {
	if e == nil {
		return "", ""
	}
	defer C.sspr_error_free(e)
	field := ""
	if f := C.sspr_error_field(e); f != nil {
		field = C.GoString(f)
	}
	return C.GoString(C.sspr_error_message(e)), field
}

func flow() {
	var engine *C.SsprEngine
	var e *C.SsprError
	st := C.open_engine(&engine, &e)
	msg, _ := errText(e)
	check(st == C.SSPR_STATUS_OK, "engine: %s", msg)
	admin, login := cstr("helpdesk"), cstr("jdoe@example.org")
	defer free(admin)
	defer free(login)
	st = C.sspr_set_enabled(engine, admin, login, true, nil, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK, "set_enabled: %s", msg)
	var up C.SsprContactUpdate
	up.email_change = C.SSPR_CHANGE_SET
	up.email = cstr("jane@example.net")
	defer free(up.email)
	var contacts *C.SsprContacts
	st = C.sspr_update_contacts(engine, admin, login, &up, nil, &contacts, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK, "update_contacts: %s", msg)
	C.sspr_contacts_free(contacts)

	var challenge *C.SsprChallenge
	st = C.sspr_begin_reset(engine, login, nil, &challenge, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK && challenge.methods_len == 1, "begin_reset: %s", msg)
	flowID := C.GoString(challenge.flow_id)
	C.sspr_challenge_free(challenge)
	cflow, email := cstr(flowID), cstr("email")
	defer free(cflow)
	defer free(email)
	var sent C.SsprPinSent
	st = C.sspr_send_pin(engine, cflow, email, nil, nil, &sent, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK && sent.attempts_left == 5, "send_pin: %s", msg)
	pin := (*C.char)(C.calloc(32, 1))
	defer free(pin)
	C.wait_pin(pin)
	var verified *C.SsprVerified
	st = C.sspr_verify_pin(engine, cflow, pin, nil, &verified, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK && verified.modes_len >= 1, "verify_pin: %s", msg)
	C.sspr_verified_free(verified)
	var outcome *C.SsprResetOutcome
	st = C.sspr_complete_reset(engine, cflow, C.SSPR_COMPLETION_MODE_TEMPORARY, nil, nil, &outcome, &e)
	msg, _ = errText(e)
	check(st == C.SSPR_STATUS_OK && bool(outcome.must_change), "complete_reset: %s", msg)
	if outcome != nil {
		temp := C.GoString(outcome.temporary_password)
		check(len(temp) == 16 && temp == C.GoString(C.directory_password()), "temporary password reached the directory")
		C.sspr_reset_outcome_free(outcome)
	}
	// A wrong-typed PIN is an error code, not a crash.
	bad := cstr("12")
	defer free(bad)
	st = C.sspr_verify_pin(engine, cflow, bad, nil, &verified, &e)
	_, field := errText(e)
	check(st == C.SSPR_STATUS_INVALID_INPUT && field == "pin", "short PIN: %d %s", st, field)
	C.sspr_engine_free(engine)
	C.close_backends()
}

// ---- test vectors ----

type vcase = map[string]any

func load(dir, file string) []vcase {
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc struct{ Cases []vcase }
	if err := dec.Decode(&doc); err != nil {
		panic(err)
	}
	if len(doc.Cases) == 0 {
		panic(file + ": no cases")
	}
	return doc.Cases
}

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func strs(v any) []string {
	out := []string{}
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func list(l *C.SsprStringList) []string {
	out := []string{}
	if l == nil {
		return out
	}
	for i := C.size_t(0); i < l.len; i++ {
		out = append(out, C.GoString(C.list_item(l, i)))
	}
	C.sspr_string_list_free(l)
	return out
}

func takeString(p *C.char) string {
	s := C.GoString(p)
	C.sspr_string_free(p)
	return s
}

func seed(hexSeed string) unsafe.Pointer {
	b, err := hex.DecodeString(hexSeed)
	if err != nil || len(b) != 32 {
		panic("bad seed")
	}
	return C.CBytes(b)
}

// inputError checks a refused input: INVALID_INPUT naming the expected field.
func inputError(name string, st uint32, e *C.SsprError, c vcase) {
	msg, field := errText(e)
	check(c["error"] == "invalid_input", "%s: refused (%s) but the vector expects %v", name, msg, c["normalized"])
	check(st == C.SSPR_STATUS_INVALID_INPUT && field == c["field"], "%s: status %d field %q, want %v", name, st, field, c["field"])
}

// replayByKind replays each case of a vector file with the function for its "kind"; a kind
// with none fails the run (a vector this replay would silently skip).
func replayByKind(dir, file string, kinds map[string]func(name string, c vcase)) {
	for _, c := range load(dir, file) {
		kind, _ := c["kind"].(string)
		if replay, ok := kinds[kind]; ok {
			replay(c["name"].(string), c)
		} else {
			check(false, "%s: unknown kind %v", file, c["kind"])
		}
	}
}

// The files replayed below; a new vector file must get its replay here.
var vectorFiles = []string{"decoys.json", "logins.json", "masks.json", "pins.json", "policy.json", "temp_passwords.json"}

func vectors(dir string) {
	found, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	names := []string{}
	for _, f := range found {
		names = append(names, filepath.Base(f))
	}
	check(reflect.DeepEqual(names, vectorFiles), "vector files %v, replayed here %v", names, vectorFiles)
	replayByKind(dir, "pins.json", map[string]func(string, vcase){
		"generate": func(name string, c vcase) {
			s := seed(c["seed"].(string))
			var out *C.SsprStringList
			var e *C.SsprError
			st := C.sspr_pins_generate((*C.uint8_t)(s), 32, C.uint32_t(num(c["digits"])), C.size_t(num(c["count"])), &out, &e)
			C.free(s)
			msg, _ := errText(e)
			check(st == C.SSPR_STATUS_OK, "%s: %s", name, msg)
			check(reflect.DeepEqual(list(out), strs(c["pins"])), "pins.json %s", name)
		},
		"hash": func(name string, c vcase) {
			k, f, p := cstr(c["key"].(string)), cstr(c["flow_id"].(string)), cstr(c["pin"].(string))
			var out *C.char
			var e *C.SsprError
			st := C.sspr_pin_hash(k, f, p, &out, &e)
			free(k)
			free(f)
			free(p)
			msg, _ := errText(e)
			check(st == C.SSPR_STATUS_OK && takeString(out) == c["hash"], "pins.json %s %s", name, msg)
		},
	})
	replayByKind(dir, "temp_passwords.json", map[string]func(string, vcase){
		"generate": func(name string, c vcase) {
			s := seed(c["seed"].(string))
			l, d := cstr(c["login"].(string)), cstr(c["display_name"].(string))
			var tokens, out *C.SsprStringList
			var e *C.SsprError
			st1 := C.sspr_identity_tokens(l, d, &tokens, nil)
			st2 := C.sspr_temp_passwords_generate((*C.uint8_t)(s), 32, C.uint32_t(num(c["length"])), l, d, C.size_t(num(c["count"])), &out, &e)
			C.free(s)
			free(l)
			free(d)
			msg, _ := errText(e)
			check(st1 == C.SSPR_STATUS_OK && reflect.DeepEqual(list(tokens), strs(c["tokens"])), "temp_passwords.json %s: tokens", name)
			check(st2 == C.SSPR_STATUS_OK && reflect.DeepEqual(list(out), strs(c["passwords"])), "temp_passwords.json %s %s", name, msg)
		},
		"entropy": func(name string, c vcase) {
			want, _ := c["bits"].(json.Number).Float64()
			got := float64(C.sspr_temp_password_entropy_bits(C.uint32_t(num(c["length"]))))
			check(math.Abs(got-want) <= 1e-9, "temp_passwords.json %s: %v != %v", name, got, want)
		},
	})
	for _, c := range load(dir, "decoys.json") {
		name := c["name"].(string)
		policy, _ := json.Marshal(c["policy"])
		k, p, l := cstr(c["key"].(string)), cstr(string(policy)), cstr(c["login"].(string))
		var normalized *C.char
		var channels, masked *C.SsprStringList
		var e *C.SsprError
		st := C.sspr_decoy_methods(k, p, l, &normalized, &channels, &masked, &e)
		free(k)
		free(p)
		free(l)
		msg, _ := errText(e)
		if !check2(st == C.SSPR_STATUS_OK, "decoys.json %s: %s", name, msg) {
			continue
		}
		check(takeString(normalized) == c["normalized"], "decoys.json %s: normalized", name)
		got := []any{}
		ch, ms := list(channels), list(masked)
		for i := range ch {
			got = append(got, map[string]any{"channel": ch[i], "masked": ms[i]})
		}
		check(reflect.DeepEqual(got, c["methods"]), "decoys.json %s: %v != %v", name, got, c["methods"])
	}
	for _, c := range load(dir, "masks.json") {
		name := c["name"].(string)
		k, in := cstr(c["kind"].(string)), cstr(c["input"].(string))
		var region *C.char // NULL: no default_region
		if r, ok := c["region"].(string); ok {
			region = cstr(r)
		}
		var normalized, masked *C.char
		var e *C.SsprError
		st := C.sspr_mask(k, in, region, &normalized, &masked, &e)
		free(k)
		free(in)
		if region != nil {
			free(region)
		}
		if st == C.SSPR_STATUS_OK {
			n, m := takeString(normalized), takeString(masked)
			check(n == c["normalized"] && m == c["masked"], "masks.json %s: %q %q", name, n, m)
		} else {
			inputError("masks.json "+name, st, e, c)
		}
	}
	for _, c := range load(dir, "logins.json") {
		name := c["name"].(string)
		// By bytes and length: some inputs hold a NUL, which a C string cannot.
		input := []byte(c["input"].(string))
		in := C.CBytes(append(input, 0))
		var out *C.char
		var e *C.SsprError
		st := C.sspr_normalize_login_bytes((*C.uint8_t)(in), C.size_t(len(input)), &out, &e)
		C.free(in)
		if st == C.SSPR_STATUS_OK {
			got := takeString(out)
			check(got == c["normalized"], "logins.json %s: %q", name, got)
		} else {
			inputError("logins.json "+name, st, e, c)
		}
	}
	for _, c := range load(dir, "policy.json") {
		name := c["name"].(string)
		text := ""
		if t, ok := c["policy_text"].(string); ok {
			text = t
		} else {
			b, _ := json.Marshal(c["policy"])
			text = string(b)
		}
		in := cstr(text)
		var out *C.char
		var e *C.SsprError
		st := C.sspr_policy_check(in, &out, &e)
		free(in)
		if want, ok := c["effective"].(map[string]any); ok {
			msg, _ := errText(e)
			if !check2(st == C.SSPR_STATUS_OK, "policy.json %s: refused: %s", name, msg) {
				continue
			}
			dec := json.NewDecoder(strings.NewReader(takeString(out)))
			dec.UseNumber()
			var got map[string]any
			_ = dec.Decode(&got)
			for k, v := range want {
				check(reflect.DeepEqual(got[k], v), "policy.json %s: %s = %v, want %v", name, k, got[k], v)
			}
			continue
		}
		want := c["error"].(map[string]any)
		msg, _ := errText(e)
		check(st == C.SSPR_STATUS_CONFIG, "policy.json %s: status %d", name, st)
		check(strings.Contains(msg, "`"+want["field"].(string)+"`"), "policy.json %s: %q does not name %v", name, msg, want["field"])
		switch want["kind"] {
		case "out_of_range":
			check(strings.Contains(msg, want["allowed"].(string)), "policy.json %s: %q lacks %v", name, msg, want["allowed"])
		case "unknown_field":
			check(strings.Contains(msg, "unknown field"), "policy.json %s: %q", name, msg)
		case "duplicate_field":
			check(strings.Contains(msg, "duplicate field"), "policy.json %s: %q", name, msg)
		default:
			check(false, "policy.json %s: unknown error kind %v", name, want["kind"])
		}
	}
}

func check2(ok bool, format string, args ...any) bool {
	check(ok, format, args...)
	return ok
}

func main() {
	if len(os.Args) != 2 {
		fmt.Println("usage: go run . <tests/vectors>")
		os.Exit(2)
	}
	flow()
	flowChecks := passed + failed
	vectors(os.Args[1])
	fmt.Printf("go: flow %d checks, vectors %d checks\n", flowChecks, passed+failed-flowChecks)
	C.sspr_shutdown()
	fmt.Printf("go: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

// The uniffi Kotlin bindings on the JVM: a Kotlin directory and notifier (suspend functions
// awaited by the engine) in a full reset flow, the error enum (SsprException), and the shared
// parity cases (Parity.kt; the path of tests/parity/cases.json is the first argument, by
// default relative to the repository's root).
// Prints "kotlin: N passed, M failed"; exits 1 on any failure.
import java.time.Instant
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import uniffi.sspr_ffi.*

var passed = 0
var failed = 0

fun check(ok: Boolean, what: String) {
    if (ok) passed++ else { failed++; println("FAIL $what") }
}

val START: Instant = Instant.parse("2026-01-01T10:00:00Z")
val ADMIN = Actor.Admin("helpdesk")
val CTX = RequestContext("192.0.2.7", "test_kotlin", Locale.EN)

class KotlinDirectory : Directory {
    val jane = DirectoryUser("uid=jdoe,ou=staff,dc=example,dc=org", "jdoe@example.org", "Jane Doe",
        "uid=jdoe,ou=staff,dc=example,dc=org", listOf(), false, false, false)
    val passwords = java.util.concurrent.ConcurrentHashMap<String, Pair<String, Boolean>>()
    @Volatile var down = false

    override suspend fun findUser(login: String): DirectoryUser? {
        delay(1) // suspends for real: the engine awaits the coroutine
        if (down) throw BackendFailure.Unavailable("ldap unreachable")
        return if (login == jane.login) jane else null
    }
    override suspend fun setPassword(userId: String, password: String, mustChange: Boolean) {
        passwords[userId] = Pair(password, mustChange)
    }
    override suspend fun unlock(userId: String) {}
    override suspend fun authenticate(userId: String, password: String): Authentication {
        val stored = passwords[userId] ?: return Authentication.REJECTED
        if (stored.first != password) return Authentication.REJECTED
        return if (stored.second) Authentication.MUST_CHANGE else Authentication.ACCEPTED
    }
    override suspend fun search(query: String, limit: UInt): List<DirectoryUser> =
        listOf(jane).filter { it.login.contains(query, true) || it.displayName.contains(query, true) }.take(limit.toInt())
    // The user's own change: the current password checked here, a history of one.
    val previous = java.util.concurrent.ConcurrentHashMap<String, String>()
    @Volatile var changes = true
    override suspend fun changePassword(userId: String, current: String, newPassword: String) {
        delay(1)
        if (!changes) throw BackendFailure.NotSupported("this directory has no password change")
        val stored = passwords[userId]
        if (stored == null || stored.first != current) {
            throw BackendFailure.PasswordRefused("wrong_current_password", "the current password is not right")
        }
        if (previous[userId] == newPassword) throw BackendFailure.PasswordRefused("in_history", "the directory remembers it")
        previous[userId] = current
        passwords[userId] = Pair(newPassword, false)
    }
}

// With the default settings (the system clock, answers padded) the engine delivers the PIN
// from its own threads after sendPin answered: uniffi's Kotlin runs the suspend function on its
// own coroutine scope from any thread, so the PIN arrives and verifies, nothing audited as lost.
suspend fun defaultSettingsDeliverInTheBackground() {
    val directory = KotlinDirectory()
    val notifier = KotlinNotifier()
    val audit = KotlinAudit()
    val engine = Engine(EngineConfig(ByteArray(32) { 7 }), directory, notifier, null, null, audit)
    engine.setEnabled(ADMIN, "jdoe@example.org", true, CTX)
    engine.updateContacts(ADMIN, "jdoe@example.org", ContactUpdate(ContactChange.Set("jane.doe@example.net"), ContactChange.Keep), CTX)
    val challenge = engine.beginReset("jdoe@example.org", CTX)
    check(engine.sendPin(challenge.flowId, "email", null, CTX).attemptsLeft == 5u, "padded sendPin answers OK")
    val pin = notifier.lastPin()
    check(engine.verifyPin(challenge.flowId, pin, CTX).modes.isNotEmpty(), "the PIN delivered from the engine's thread verifies")
    engine.flushDeliveries()
    check(audit.events.none { it.contains("not delivered") }, "nothing audited as lost")
    engine.close()
}

// A user's own change reaches the Kotlin directory end to end: the directory's refusal by its
// rule (nothing changed), a temporary password changed (the new one signs in, the old one does
// not, the user is told), and a directory without the operation: NOT_SUPPORTED.
suspend fun changePassword() {
    val directory = KotlinDirectory()
    val notifier = KotlinNotifier()
    val clock = ManualClock(START)
    val engine = Engine(EngineConfig(ByteArray(32) { 7 }, "{\"min_response_ms\": 0}", ByteArray(32)), directory, notifier, null, clock)
    engine.setEnabled(ADMIN, "jdoe@example.org", true, CTX)
    engine.updateContacts(ADMIN, "jdoe@example.org", ContactUpdate(ContactChange.Set("jane.doe@example.net"), ContactChange.Keep), CTX)
    val id = directory.jane.id
    directory.passwords[id] = Pair("Temp-Passw0rd-1", true)
    directory.previous[id] = "Older-Harbour-Lamp-8"
    expect<SsprException.SignInFailed>("a wrong current password") {
        runBlocking { engine.changePassword("jdoe@example.org", "Wrong-Passw0rd-1", "Fresh-Meadow-41", CTX) }
    }
    val refused = expect<SsprException.PasswordRejected>("the directory's own rule") {
        runBlocking { engine.changePassword("jdoe@example.org", "Temp-Passw0rd-1", "Older-Harbour-Lamp-8", CTX) }
    }
    check(refused?.refusal == "in_history" && refused.message?.contains("Older-Harbour") != true, "refusal ${refused?.refusal}")
    check(directory.passwords[id] == Pair("Temp-Passw0rd-1", true), "nothing changed")
    engine.changePassword("jdoe@example.org", "Temp-Passw0rd-1", "Fresh-Meadow-41", CTX)
    check(directory.passwords[id] == Pair("Fresh-Meadow-41", false), "changed: ${directory.passwords[id]}")
    check(!engine.signInSelfService("jdoe@example.org", "Fresh-Meadow-41", CTX).mustChange, "the new password signs in")
    expect<SsprException.SignInFailed>("the old one does not") {
        runBlocking { engine.signInSelfService("jdoe@example.org", "Temp-Passw0rd-1", CTX) }
    }
    engine.flushDeliveries()
    check(notifier.sent.count { it.kind == MessageKind.PASSWORD_CHANGED && it.to == "jane.doe@example.net" } == 1, "the user is told")
    directory.changes = false
    val none = expect<SsprException.Backend>("no change operation") {
        runBlocking { engine.changePassword("jdoe@example.org", "Fresh-Meadow-41", "Second-Harbour-52", CTX) }
    }
    check(none?.kind == BackendErrorKind.NOT_SUPPORTED, "kind ${none?.kind}")
    check(directory.passwords[id] == Pair("Fresh-Meadow-41", false), "nothing changed")
    engine.close()
    clock.close()
}

class KotlinNotifier : Notifier {
    val sent = java.util.concurrent.CopyOnWriteArrayList<Notification>()
    override suspend fun send(notification: Notification) {
        delay(1)
        sent.add(notification)
    }
    @Volatile var taken = 0
    // The newest PIN, waiting (up to 2 s) for one not yet taken: deliveries run in the
    // background, after sendPin has answered.
    suspend fun lastPin(): String {
        var waited = 0
        while (sent.count { it.kind == MessageKind.PIN } <= taken && waited < 400) { delay(5); waited++ }
        taken = sent.count { it.kind == MessageKind.PIN }
        return sent.last { it.kind == MessageKind.PIN }.pin!!
    }
}

class KotlinAudit : AuditSink {
    val events = java.util.concurrent.CopyOnWriteArrayList<String>()
    override fun record(eventJson: String) { events.add(eventJson) }
}

// Two processes of one deployment (two engines) on one SQLite file: PIN guesses spread over
// both still meet ONE block (with a store each, each allowed 5 failures: 10 guesses).
suspend fun twoEnginesOnOneSqliteFile() {
    val db = java.io.File.createTempFile("sspr-kotlin-", ".db")
    val auditFile = java.io.File.createTempFile("sspr-kotlin-audit-", ".jsonl")
    val clock = ManualClock(START)
    val audit = KotlinAudit()
    fun open(n: KotlinNotifier) = Engine(
        EngineConfig(ByteArray(32) { 7 }, "{\"user_failures_before_block\": 5, \"failures_before_delay\": 5, \"min_response_ms\": 0}", null,
            StateStoreConfig.Sqlite(db.path), auditFile.path),
        KotlinDirectory(), n, null, clock, audit)
    val notifierA = KotlinNotifier()
    val notifierB = KotlinNotifier()
    val a = open(notifierA)
    val b = open(notifierB)
    for (engine in listOf(a, b)) {
        engine.setEnabled(ADMIN, "jdoe@example.org", true, CTX)
        engine.updateContacts(ADMIN, "jdoe@example.org",
            ContactUpdate(ContactChange.Set("jane.doe@example.net"), ContactChange.Keep), CTX)
    }
    fun wrongOf(pin: String) = (if (pin[0] == '1') "2" else "1") + pin.substring(1)
    val flowA = a.beginReset("jdoe@example.org", CTX).flowId
    a.sendPin(flowA, "email", null, CTX)
    while (notifierA.sent.none { it.kind == MessageKind.PIN }) delay(5)
    repeat(3) { i ->
        expect<SsprException.WrongPin>("A try $i") { runBlocking { a.verifyPin(flowA, wrongOf(notifierA.lastPin()), CTX) } }
    }
    val flowB = b.beginReset("jdoe@example.org", CTX).flowId
    b.sendPin(flowB, "email", null, CTX)
    while (notifierB.sent.none { it.kind == MessageKind.PIN }) delay(5)
    val wrongB = wrongOf(notifierB.lastPin())
    expect<SsprException.WrongPin>("B try 1") { runBlocking { b.verifyPin(flowB, wrongB, CTX) } }
    expect<SsprException.Blocked>("the 5th failure overall (2nd on B) blocks") {
        runBlocking { b.verifyPin(flowB, wrongB, CTX) }
    }
    expect<SsprException.Blocked>("engine A sees the block") { runBlocking { a.beginReset("jdoe@example.org", CTX) } }

    // The Kotlin audit sink and the JSON-lines file got every event of both engines.
    check(audit.events.any { it.contains("\"kind\":\"reset_requested\"") }, "audit callback: ${audit.events.size} events")
    check(audit.events.all { it.startsWith("{") && it.endsWith("}") }, "events are JSON objects")
    val lines = auditFile.readLines()
    check(lines.size == audit.events.size && lines.all { it.startsWith("{") && it.endsWith("}") },
        "audit file: ${lines.size} lines for ${audit.events.size} events")
    expect<SsprException.InvalidInput>("a bad store configuration") {
        Engine(EngineConfig(ByteArray(32) { 7 }, null, null, StateStoreConfig.Json("{\"mysql\": {}}"), null),
            KotlinDirectory(), KotlinNotifier(), null, null, null)
    }
    a.close()
    b.close()
    clock.close()
    for (suffix in listOf("", "-wal", "-shm")) java.io.File(db.path + suffix).delete()
    auditFile.delete()
}

// Printed, no value shows the secret it holds (a Kotlin data class's own toString prints every
// field: a flow id or a PIN in a log line or an exception's message), while its field still
// holds it.
suspend fun printedValuesHideSecrets(engine: Engine, notifier: KotlinNotifier, challenge: ResetChallenge,
                                     pin: String, outcome: ResetOutcome) {
    val issued = engine.adminRecovery(ADMIN, "jdoe@example.org", CTX)
    val recovered = engine.redeemRecoveryCode("jdoe@example.org", issued.code, CTX)
    val notice = notifier.sent.last { it.kind == MessageKind.PIN }
    val chosen = NewPassword.Chosen("Correct-Horse-Battery-9")
    val store = StateStoreConfig.Redis("redis://:hunter2@redis.example.org:6379/0")
    val config = EngineConfig(secretKey = ByteArray(0), stateStore = store, secretKeyHex = "ab".repeat(32),
        botChallengeJson = "{\"provider\": \"turnstile\", \"site_key\": \"k\", \"secret\": \"0xS3CR3T\"}")
    check(notice.pin == pin && notice.body.contains(pin), "the notice holds the PIN")
    check(outcome.temporaryPassword?.length == 16 && issued.code.length == 10 && recovered.flowId.length == 32,
        "the fields hold the secrets")
    check(chosen.password == "Correct-Horse-Battery-9" && store.url.contains("hunter2") &&
        config.secretKeyHex == "ab".repeat(32), "the fields the host set hold them")
    val printed = listOf<Triple<String, Any, String>>(
        Triple("ResetChallenge", challenge, challenge.flowId),
        Triple("Notification", notice, pin),
        Triple("ResetOutcome", outcome, outcome.temporaryPassword!!),
        Triple("RecoveryCode", issued, issued.code),
        Triple("Recovered", recovered, recovered.flowId),
        Triple("Chosen", chosen, "Correct-Horse"),
        Triple("Redis", store, "hunter2"),
        Triple("EngineConfig", config, "abab"),
        Triple("EngineConfig", config, "S3CR3T"),
    )
    for ((name, value, secret) in printed) {
        val shown = listOf(value.toString(), "$value", listOf(value).toString(), String.format("%s", value),
            RuntimeException("failed for $value").message ?: "")
        check(shown.none { it.contains(secret) }, "$name printed its secret: $value")
        check(value.toString().contains(name), "$name still says what it is: $value")
    }
}

// THREAT_MODEL R.42: a Kotlin backend that throws an Error rather than an Exception (`TODO()`,
// a failed `assert`/`check` of a library built that way, StackOverflowError) is answered at
// once as a backend failure naming it, as any other unexpected exception is: never left
// without an answer (the engine then waits out its 30 s backend timeout and reports the
// directory UNAVAILABLE, or under a manual clock waits for ever).
suspend fun errorsABackendThrowsAreAnswered() {
    val directory = object : Directory by KotlinDirectory() {
        override suspend fun findUser(login: String): DirectoryUser? = TODO("the LDAP lookup")
    }
    val engine = Engine(EngineConfig(ByteArray(32) { 7 }, "{\"min_response_ms\": 0}", null), directory, KotlinNotifier(), null, null)
    val answer = try {
        kotlinx.coroutines.withTimeout(10_000) { engine.beginReset("jdoe@example.org", CTX) }
        "Ok"
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        "no answer within 10 s"
    } catch (e: SsprException.Backend) {
        "Backend ${e.kind}: ${e.detail}"
    } catch (e: Throwable) {
        "${e::class.simpleName}: ${e.message}"
    }
    check(answer.startsWith("Backend OTHER") && answer.contains("NotImplementedError"), "a directory's TODO(): $answer")
    engine.close()
    // A plain (not suspend) method: a hook's events() throwing an Error fails the engine's
    // construction naming it, where JNA's empty answer was read as a garbled list.
    val hook = object : EventHook {
        override fun events(): List<HookEvent> = throw AssertionError("events not configured")
        override suspend fun onEvent(event: HookEvent, auditJson: String) {}
    }
    val built = try {
        Engine(EngineConfig(ByteArray(32) { 7 }, null, null), KotlinDirectory(), KotlinNotifier(), null, null, null, null, listOf(hook)).close()
        "Ok"
    } catch (e: Throwable) {
        "${e::class.qualifiedName}: ${e.message}"
    }
    check(built.contains("AssertionError"), "a hook's events() throwing an Error: $built")
}

inline fun <reified E : Throwable> expect(what: String, block: () -> Unit): E? {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) { check(true, what); return e }
        check(false, "$what: threw ${e::class.simpleName}: ${e.message}")
        return null
    }
    check(false, "$what: no error")
    return null
}

fun main(args: Array<String>) = runBlocking {
    val directory = KotlinDirectory()
    val notifier = KotlinNotifier()
    val clock = ManualClock(START)
    val engine = Engine(EngineConfig(ByteArray(32) { 7 }, "{\"min_response_ms\": 0}", ByteArray(32)), directory, notifier, null, clock)

    engine.setEnabled(ADMIN, "jdoe@example.org", true, CTX)
    val view = engine.updateContacts(ADMIN, "jdoe@example.org",
        ContactUpdate(ContactChange.Set("jane.doe@example.net"), ContactChange.Keep), CTX)
    check(view.email?.masked == "j***@e***.net", "masked ${view.email}")

    val challenge = engine.beginReset("JDoe@Example.org", CTX)
    check(challenge.flowId.length == 32, "flow id")
    check(challenge.methods.map { it.masked } == listOf("j***@e***.net"), "methods ${challenge.methods}")
    check(challenge.expiresAt == START.plusSeconds(900), "expires ${challenge.expiresAt}")
    val sent = engine.sendPin(challenge.flowId, "email", null, CTX)
    check(sent.attemptsLeft == 5u, "attempts left")
    val pin = notifier.lastPin()
    check(pin.length == 8 && notifier.sent.last().to == "jane.doe@example.net", "the PIN reached the Kotlin notifier")

    val wrong = (if (pin[0] == '1') "2" else "1") + pin.substring(1)
    val e = expect<SsprException.WrongPin>("wrong PIN") { runBlocking { engine.verifyPin(challenge.flowId, wrong, CTX) } }
    check(e?.attemptsLeft == 4u, "attempts left 4")
    check(e?.message?.contains(wrong) != true, "the error does not hold the PIN")
    val bad = expect<SsprException.InvalidInput>("short PIN") { runBlocking { engine.verifyPin(challenge.flowId, "12", CTX) } }
    check(bad?.field == "pin", "field pin")

    val verified = engine.verifyPin(challenge.flowId, pin, CTX)
    check(verified.modes.first() == CompletionMode.TEMPORARY, "modes ${verified.modes}")
    val outcome = engine.completeReset(challenge.flowId, NewPassword.Temporary, CTX)
    check(outcome.mustChange && outcome.temporaryPassword?.length == 16, "outcome")
    check(directory.passwords[directory.jane.id] == Pair(outcome.temporaryPassword, true),
        "the Kotlin directory got the temporary password with must-change")
    expect<SsprException.AlreadyUsed>("once only") {
        runBlocking { engine.completeReset(challenge.flowId, NewPassword.Temporary, CTX) }
    }
    val signedIn = engine.signIn("jdoe@example.org", outcome.temporaryPassword!!, CTX)
    check(signedIn.mustChange, "sign in with the temporary password")
    expect<SsprException.SignInFailed>("wrong password") {
        runBlocking { engine.signIn("jdoe@example.org", "Wrong-Pass-1", CTX) }
    }
    check(engine.searchUsers("doe", 5u).map { it.login } == listOf("jdoe@example.org"), "search")
    printedValuesHideSecrets(engine, notifier, challenge, pin, outcome)

    // Expiry, with the manual clock.
    val second = engine.beginReset("jdoe@example.org", CTX)
    engine.sendPin(second.flowId, "email", null, CTX)
    clock.advance(601u)
    expect<SsprException.Expired>("expired") {
        runBlocking { engine.verifyPin(second.flowId, notifier.lastPin(), CTX) }
    }
    // The error enum's other members.
    val limited = expect<SsprException.NotAllowed>("admin only") {
        runBlocking { engine.unblock(Actor.User, "jdoe@example.org", CTX) }
    }
    check(limited?.reason == NotAllowedReason.ADMIN_ONLY, "reason")
    expect<SsprException.UnknownUser>("unknown user") { runBlocking { engine.status("nobody@example.org") } }
    val invalid = expect<SsprException.InvalidInput>("bad IP") {
        runBlocking { engine.beginReset("jdoe@example.org", RequestContext("999.1.1.1", null, Locale.EN)) }
    }
    check(invalid?.field == "client_ip", "field client_ip")
    directory.down = true
    val backend = expect<SsprException.Backend>("directory down") {
        runBlocking { engine.beginReset("jdoe@example.org", CTX) }
    }
    check(backend?.kind == BackendErrorKind.UNAVAILABLE && backend.detail.contains("ldap unreachable"), "kind")
    expect<SsprException.Config>("bad policy") {
        Engine(EngineConfig(ByteArray(32) { 7 }, "{\"pin_length\": 4}", null), directory, notifier, null, null)
    }
    engine.close()
    clock.close()

    twoEnginesOnOneSqliteFile()
    changePassword()
    defaultSettingsDeliverInTheBackground()
    errorsABackendThrowsAreAnswered()
    Parity(java.io.File(args.getOrElse(0) { "tests/parity/cases.json" })).run()

    println("kotlin: $passed passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}

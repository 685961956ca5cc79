// The Kotlin side of the FFI overhead benchmark (scripts/bench-ffi.sh): the flow of
// examples/bench_flow.rs through the uniffi bindings on the JVM, with a directory and a
// notifier written as Kotlin suspend functions. Compiled with the Kotlin test (so it keeps
// compiling), run only by the benchmark script.
package bench

import java.time.Instant
import kotlinx.coroutines.runBlocking
import uniffi.sspr_ffi.*

val USER = DirectoryUser("uid=jdoe,ou=staff,dc=example,dc=org", "jdoe@example.org", "Jane Doe",
    "uid=jdoe,ou=staff,dc=example,dc=org", listOf(), false, false, false)

class BenchDirectory : Directory {
    override suspend fun findUser(login: String): DirectoryUser? = if (login == USER.login) USER else null
    override suspend fun setPassword(userId: String, password: String, mustChange: Boolean) {}
    override suspend fun unlock(userId: String) {}
    override suspend fun authenticate(userId: String, password: String) = Authentication.REJECTED
    override suspend fun search(query: String, limit: UInt): List<DirectoryUser> = listOf()
    override suspend fun changePassword(userId: String, current: String, newPassword: String) =
        throw BackendFailure.NotSupported("no password change in the benchmark")
}

class BenchNotifier : Notifier {
    @Volatile var pin: String? = null
    override suspend fun send(notification: Notification) {
        notification.pin?.let { pin = it }
    }
}

fun main(args: Array<String>) = runBlocking {
    val rounds = args.firstOrNull()?.toInt() ?: 2000
    val clock = ManualClock(Instant.parse("2026-01-01T10:00:00Z"))
    val notifier = BenchNotifier()
    val engine = Engine(EngineConfig(ByteArray(32) { 7 }, null, ByteArray(32).also { it[0] = 1 }),
        BenchDirectory(), notifier, null, clock)
    val ctx = RequestContext(null, null, Locale.EN)
    val admin = Actor.Admin("bench")
    engine.setEnabled(admin, USER.login, true, ctx)
    engine.updateContacts(admin, USER.login, ContactUpdate(ContactChange.Set("jane.doe@example.net"), ContactChange.Keep), ctx)

    suspend fun round() {
        val c = engine.beginReset(USER.login, ctx)
        engine.sendPin(c.flowId, "email", null, ctx)
        engine.verifyPin(c.flowId, notifier.pin!!, ctx)
        engine.completeReset(c.flowId, NewPassword.UnlockOnly, ctx)
        clock.advance(3601u)
    }
    repeat(rounds / 2) { round() } // JIT warm-up
    var start = System.nanoTime()
    repeat(rounds) { round() }
    val flow = (System.nanoTime() - start) / 1e3 / rounds
    val calls = rounds * 10
    start = System.nanoTime()
    repeat(calls) { engine.status(USER.login) }
    val status = (System.nanoTime() - start) / 1e3 / calls
    start = System.nanoTime()
    repeat(calls) { engine.completionModes() }
    val sync = (System.nanoTime() - start) / 1e3 / calls
    println("kotlin: flow %.1f us, status %.2f us, completion_modes %.3f us".format(flow, status, sync))
    engine.close()
    clock.close()
}

// tests/parity/cases.json replayed through the uniffi Kotlin API (what a Kotlin user calls:
// RequestContext, EngineConfig, Engine, a Kotlin ContactStore): the rules are written once
// (sspr-core's wire.rs, sspr-bind) and every binding must give the outcomes listed there.
// See tests/parity/README.md for the format. The path to cases.json is the first argument.
import java.io.File
import java.time.Instant
import org.json.JSONObject
import uniffi.sspr_ffi.*

// Kinds uniffi does not replay, and why. uniffi's interface is typed: where Python and Node
// take or give a name, uniffi has an enum, so there is no text to parse and nothing for the
// shared rule to refuse.
val PARITY_SKIPPED = mapOf(
    "locale" to "an explicit locale is the enum Locale (EN, DE): no name to parse, an unsupported one cannot be written",
    "request_context" to "its cases name the explicit locale as text (\"fr\"); uniffi's is the enum Locale " +
        "(client_ip and accept_language, its other parts, are replayed on their own)",
    "completion_mode" to "a mode is the enum CompletionMode, given by verifyPin and taken through NewPassword",
    "new_password" to "NewPassword.Chosen alone carries a password: a password with another mode cannot be written",
    "channel" to "a channel is the enum Channel, only given (MethodOption, Notification); sendPin takes a method id",
    "not_allowed_reason" to "only given, as the enum NotAllowedReason of SsprException.NotAllowed",
    "error_code" to "every error is its own class (SsprException.WrongPin, ...), one per sspr_core::Error variant",
    "backend_error_kind" to "a Kotlin backend throws a BackendFailure subclass (Unavailable, ...): no name to parse",
    "authentication" to "a Kotlin directory answers the enum Authentication: no name to parse",
)

const val PARITY_LOGIN = "jdoe@example.org"
const val PARITY_EMAIL = "jane.doe@example.net"

/** The parity engine's configuration: the file's key, unpadded, a policy in JSON or TOML. */
fun parityConfig(key: ByteArray, json: String? = "{\"min_response_ms\": 0}", toml: String? = null) =
    EngineConfig(key, json, null, null, null, toml)

fun hexBytes(hex: String): ByteArray = ByteArray(hex.length / 2) { hex.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

class Parity(file: File) {
    private val data = JSONObject(file.readText())
    private val engineInfo = data.getJSONObject("engine")
    private val key = hexBytes(engineInfo.getString("secret_key_hex"))
    private val clockAt = Instant.parse(engineInfo.getString("clock"))
    val cases = data.getJSONArray("cases").let { a -> (0 until a.length()).map { a.getJSONObject(it) } }

    /** An engine with Jane enabled and her e-mail registered, on a manual clock, unpadded. */
    private suspend fun enrolled(notifier: KotlinNotifier = KotlinNotifier(), audit: KotlinAudit? = null): Engine {
        val engine = Engine(parityConfig(key), KotlinDirectory(), notifier, null, ManualClock(clockAt), audit)
        engine.setEnabled(ADMIN, PARITY_LOGIN, true, CTX)
        engine.updateContacts(ADMIN, PARITY_LOGIN, ContactUpdate(ContactChange.Set(PARITY_EMAIL), ContactChange.Keep), CTX)
        return engine
    }

    /** The client address the audit trail recorded for a reset begun from `ip`. */
    private suspend fun clientIp(ip: String): Any? {
        val audit = KotlinAudit()
        val engine = enrolled(audit = audit)
        audit.events.clear()
        engine.beginReset(PARITY_LOGIN, RequestContext(clientIp = ip))
        val begun = audit.events.map { JSONObject(it) }.filter { it.getString("kind") == "reset_requested" }
        check(begun.size == 1, "one reset_requested event for $ip, got ${begun.size}")
        return begun.firstOrNull()?.opt("client_ip")
    }

    /** The language of the PIN notice for a reset begun and sent with `header`. */
    private suspend fun acceptLanguage(header: String): Any {
        val notifier = KotlinNotifier()
        val engine = enrolled(notifier)
        val ctx = RequestContext(acceptLanguage = header)
        val flow = engine.beginReset(PARITY_LOGIN, ctx).flowId
        engine.sendPin(flow, "email", null, ctx)
        engine.flushDeliveries()
        return notifier.sent.last { it.kind == MessageKind.PIN }.locale.name.lowercase()
    }

    /** Who acted, from an administrative operation with that actor. */
    private suspend fun actor(input: JSONObject): Any {
        val engine = enrolled()
        val actor = if (input.has("admin")) Actor.Admin(input.getString("admin")) else Actor.User
        engine.updateContacts(actor, PARITY_LOGIN, ContactUpdate(ContactChange.Keep, ContactChange.Keep), CTX)
        return if (actor is Actor.Admin) mapOf("type" to "admin", "id" to actor.id) else mapOf("type" to "user")
    }

    /** The policy in force for an engine given the policy text. */
    private fun policy(input: JSONObject): Any {
        val text = input.getString("text")
        val config = if (input.getString("format") == "json") parityConfig(key, text) else parityConfig(key, null, text)
        val engine = Engine(config, KotlinDirectory(), KotlinNotifier())
        return JSONObject(engine.policyJson()).toMap()
    }

    /** The contacts the engine reads from a Kotlin store returning the record. */
    private suspend fun enrollment(input: JSONObject): Any {
        fun contact(name: String): StoredContact? = input.optJSONObject(name)?.let {
            StoredContact(it.getString("value"), Instant.parse(it.getString("added_at")), Instant.parse(it.getString("usable_from")))
        }
        val record = Enrollment(
            input.getBoolean("enabled"), contact("email"), contact("phone"),
            if (input.isNull("last_reset_at")) null else Instant.parse(input.getString("last_reset_at")),
            if (input.isNull("history")) null else input.getString("history"),
            input.getLong("version").toULong(),
        )
        val store = object : ContactStore {
            override suspend fun get(userId: String): Enrollment? = record
            override suspend fun save(userId: String, enrollment: Enrollment, expectedVersion: ULong) = true
        }
        val engine = Engine(parityConfig(key), KotlinDirectory(), KotlinNotifier(), store, ManualClock(clockAt))
        val contacts = engine.contacts(PARITY_LOGIN)
        return mapOf("email" to contacts.email?.value, "phone" to contacts.phone?.value)
    }

    /** Build an engine with the key as bytes (`secretKey`) or hex (`secretKeyHex`). */
    private fun secretKey(input: JSONObject): Any {
        val config = if (input.has("bytes")) EngineConfig(hexBytes(input.getString("bytes")))
            else EngineConfig(ByteArray(0), secretKeyHex = input.getString("hex"))
        Engine(config, KotlinDirectory(), KotlinNotifier()).close()
        return "ok"
    }

    /** The first flow id of an engine seeded with the seed as bytes (`rngSeed`) or hex (`rngSeedHex`). */
    private suspend fun rngSeed(input: JSONObject): Any {
        val config = if (input.has("bytes")) EngineConfig(key, rngSeed = hexBytes(input.getString("bytes")))
            else EngineConfig(key, rngSeedHex = input.getString("hex"))
        val engine = Engine(config, KotlinDirectory(), KotlinNotifier(), null, ManualClock(clockAt))
        return mapOf("first_flow_id" to engine.beginReset(engineInfo.getString("login"), RequestContext()).flowId)
    }

    private suspend fun replay(kind: String, input: Any): Any? = when (kind) {
        "secret_key" -> secretKey(input as JSONObject)
        "rng_seed" -> rngSeed(input as JSONObject)
        "client_ip" -> clientIp(input as String)
        "accept_language" -> acceptLanguage(input as String)
        "actor" -> actor(input as JSONObject)
        "policy" -> policy(input as JSONObject)
        "enrollment" -> enrollment(input as JSONObject)
        else -> throw IllegalStateException("no replay for kind $kind")
    }

    /** Whether `got` has every field `want` lists (JSON null is Kotlin null; numbers by value). */
    private fun same(want: Any?, got: Any?): Boolean = when (want) {
        is JSONObject -> got is Map<*, *> && want.keySet().all { same(want.get(it), got[it]) }
        JSONObject.NULL, null -> got == null
        else -> want.toString() == got.toString()
    }

    private fun code(e: SsprException): String = when (e) {
        is SsprException.InvalidInput -> "invalid_input"
        is SsprException.Config -> "config"
        is SsprException.Backend -> "backend"
        else -> e::class.simpleName ?: "?"
    }

    suspend fun run() {
        val replayed = setOf("client_ip", "accept_language", "actor", "policy", "enrollment", "secret_key", "rng_seed")
        val unknown = cases.map { it.getString("kind") }.filter { it !in PARITY_SKIPPED && it !in replayed }.toSet()
        check(unknown.isEmpty(), "parity: kinds with no replay and no reason to skip: $unknown")
        for (case in cases.filter { it.getString("kind") !in PARITY_SKIPPED }) {
            val id = "parity ${case.getString("id")}"
            val expect = case.getJSONObject("expect")
            val outcome = try {
                Result.success(replay(case.getString("kind"), case.get("input")))
            } catch (e: SsprException) {
                Result.failure(e)
            }
            val error = outcome.exceptionOrNull() as SsprException?
            if (!expect.has("error")) {
                check(error == null && same(expect.get("value"), outcome.getOrNull()),
                    "$id: want ${expect.get("value")}, got ${error ?: outcome.getOrNull()}")
                continue
            }
            if (error == null) {
                check(false, "$id: want ${expect.getString("error")}, got ${outcome.getOrNull()}")
                continue
            }
            var ok = code(error) == expect.getString("error")
            if (expect.has("field")) ok = ok && (error as? SsprException.InvalidInput)?.field == expect.getString("field")
            if (expect.has("backend_kind")) {
                val backend = error as? SsprException.Backend
                ok = ok && backend?.kind?.name?.lowercase() == expect.getString("backend_kind") &&
                    backend.detail.contains("invalid enrollment: ${expect.getString("part")}:")
            }
            check(ok, "$id: want ${expect}, got ${error::class.simpleName}: ${error.message}")
        }
    }
}

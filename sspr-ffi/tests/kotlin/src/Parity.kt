// tests/parity/cases.json replayed through the uniffi Kotlin API (what a Kotlin user calls:
// RequestContext, EngineConfig, Engine, a Kotlin ContactStore): the rules are written once
// (sspr-core's wire.rs, sspr-bind) and every binding must give the outcomes listed there.
// See tests/parity/README.md for the format. The path to cases.json is the first argument.
import java.io.File
import java.time.Instant
import org.json.JSONObject
import uniffi.sspr_ffi.*

// Every kind is replayed. Where Python and Node take or give a name, uniffi has an enum: its
// names are read and given by the exported name functions (parseChannel / nameOfChannel...,
// the core's rules), a completion is made from a mode by newPasswordFromMode, and an error's
// code is the name of its own exception class (SsprException.WrongPin is "wrong_pin").

/** `WrongPin` as `wrong_pin`. */
fun snake(name: String): String = name.replace(Regex("(?<=.)([A-Z])"), "_$1").lowercase()

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

    /** The notice's language and the audited client address of a reset begun and sent with a
     *  context made of the parts the case lists (an explicit locale read by parseLocale). */
    private suspend fun requestContext(input: JSONObject): Any {
        val locale = if (input.has("locale")) parseLocale(input.getString("locale")) else null
        val ctx = RequestContext(
            clientIp = input.optString("client_ip", null), locale = locale,
            acceptLanguage = input.optString("accept_language", null),
        )
        val notifier = KotlinNotifier()
        val audit = KotlinAudit()
        val engine = enrolled(notifier, audit)
        audit.events.clear()
        val flow = engine.beginReset(PARITY_LOGIN, ctx).flowId
        engine.sendPin(flow, "email", null, ctx)
        engine.flushDeliveries()
        val begun = audit.events.map { JSONObject(it) }.first { it.getString("kind") == "reset_requested" }
        val noticeLocale = notifier.sent.last { it.kind == MessageKind.PIN }.locale
        return mapOf("client_ip" to begun.opt("client_ip").takeIf { it != JSONObject.NULL }, "locale" to nameOfLocale(noticeLocale))
    }

    /** The mode of the completion newPasswordFromMode makes of the mode's name and the password. */
    private fun newPassword(input: JSONObject): Any? {
        val mode = parseCompletionMode(input.getString("mode"))
        val made = newPasswordFromMode(mode, input.optString("password", null))
        check((made is NewPassword.Chosen) == (mode == CompletionMode.CHOSEN), "new_password: $made for $mode")
        return nameOfCompletionMode(mode)
    }

    /** The code of the exception class uniffi has for the core's error variant. */
    private fun errorCode(variant: String): Any {
        val type = Class.forName("uniffi.sspr_ffi.SsprException\$$variant")
        check(SsprException::class.java.isAssignableFrom(type), "error_code: $type is an SsprException")
        return snake(type.simpleName)
    }

    private suspend fun replay(kind: String, input: Any): Any? = when (kind) {
        "secret_key" -> secretKey(input as JSONObject)
        "rng_seed" -> rngSeed(input as JSONObject)
        "client_ip" -> clientIp(input as String)
        "accept_language" -> acceptLanguage(input as String)
        "actor" -> actor(input as JSONObject)
        "policy" -> policy(input as JSONObject)
        "enrollment" -> enrollment(input as JSONObject)
        "request_context" -> requestContext(input as JSONObject)
        "new_password" -> newPassword(input as JSONObject)
        "error_code" -> errorCode(input as String)
        "locale" -> nameOfLocale(parseLocale(input as String))
        "completion_mode" -> nameOfCompletionMode(parseCompletionMode(input as String))
        "channel" -> nameOfChannel(parseChannel(input as String))
        "not_allowed_reason" -> nameOfNotAllowedReason(parseNotAllowedReason(input as String))
        "backend_error_kind" -> nameOfBackendErrorKind(parseBackendErrorKind(input as String))
        "authentication" -> nameOfAuthentication(parseAuthentication(input as String))
        else -> throw IllegalStateException("no replay for kind $kind")
    }

    /** Whether `got` has every field `want` lists (JSON null is Kotlin null; numbers by value). */
    private fun same(want: Any?, got: Any?): Boolean = when (want) {
        is JSONObject -> got is Map<*, *> && want.keySet().all { same(want.get(it), got[it]) }
        JSONObject.NULL, null -> got == null
        else -> want.toString() == got.toString()
    }

    private fun code(e: SsprException): String = snake(e::class.java.simpleName)

    suspend fun run() {
        for (case in cases) {
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

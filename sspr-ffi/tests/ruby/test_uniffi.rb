# The uniffi Ruby bindings: a full flow with a directory, a contact store and a notifier
# written in Ruby, and the error enum. Run by scripts/test.d/60-ffi.sh with the generated
# sspr_ffi.rb on the load path and the library beside it. Prints "ruby: N passed, M failed".
require 'io/wait' # the generated bindings use IO#wait_readable (Ruby 3.1 needs this first)
require 'sspr_ffi'

S = SsprFfi
$passed = 0
$failed = 0

def check(ok, what)
  if ok
    $passed += 1
  else
    $failed += 1
    puts "FAIL #{what}"
  end
end

def expect(klass, what)
  yield
  check(false, "#{what}: no error")
  nil
rescue klass => e
  check(true, what)
  e
rescue StandardError => e
  check(false, "#{what}: raised #{e.class}: #{e}")
  nil
end

START = Time.utc(2026, 1, 1, 10, 0, 0)
ADMIN = S::Actor::ADMIN.new(id: 'helpdesk')
CTX = S::RequestContext.new(client_ip: '192.0.2.7', user_agent: 'test_ruby', locale: S::Locale::EN)
JANE_ID = 'uid=jdoe,ou=staff,dc=example,dc=org'

class RubyDirectory
  attr_reader :passwords
  attr_accessor :down

  def initialize
    @jane = S::DirectoryUser.new(id: JANE_ID, login: 'jdoe@example.org', display_name: 'Jane Doe', dn: JANE_ID)
    @passwords = {}
    @down = false
  end

  def find_user(login)
    raise S::BackendFailure::Unavailable.new(detail: 'ldap unreachable') if @down

    login == 'jdoe@example.org' ? @jane : nil
  end

  def set_password(user_id, password, must_change)
    @passwords[user_id] = [password, must_change]
  end

  def unlock(_user_id); end

  def authenticate(user_id, password)
    stored = @passwords[user_id]
    return S::Authentication::REJECTED if stored.nil? || stored[0] != password

    stored[1] ? S::Authentication::MUST_CHANGE : S::Authentication::ACCEPTED
  end

  def search(query, limit)
    [@jane].select { |u| u.login.include?(query.downcase) || u.display_name.downcase.include?(query.downcase) }
           .first(limit)
  end

  # A directory without the user's own change says so.
  def change_password(_user_id, _current, _new_password)
    raise S::BackendFailure::NotSupported.new(detail: 'no password change here')
  end
end

class RubyContacts
  attr_reader :records

  def initialize
    @records = {}
  end

  def get(user_id)
    @records[user_id]
  end

  def save(user_id, enrollment, expected_version)
    current = @records[user_id]
    return false if (current ? current.version : 0) != expected_version

    @records[user_id] = S::Enrollment.new(enabled: enrollment.enabled, email: enrollment.email, phone: enrollment.phone,
                                          last_reset_at: enrollment.last_reset_at, history: enrollment.history,
                                          version: expected_version + 1)
    true
  end
end

class RubyNotifier
  attr_reader :sent

  def initialize
    @sent = []
  end

  def send(notification)
    @sent << notification
    nil
  end

  def last_pin
    @sent.select { |n| n.kind == S::MessageKind::PIN }.last.pin
  end
end

directory = RubyDirectory.new
contacts = RubyContacts.new
notifier = RubyNotifier.new
clock = S::ManualClock.new(START)
# A manual clock "sleeps" by moving forward: padding (on by default) would shift its times.
config = S::EngineConfig.new(secret_key: ([7] * 32).pack('C*'), rng_seed: ([0] * 32).pack('C*'),
                             policy_json: '{"min_response_ms": 0}')
engine = S::Engine.new(config, directory, notifier, contacts, clock)

engine.set_enabled(ADMIN, 'jdoe@example.org', true, CTX)
update = S::ContactUpdate.new(email: S::ContactChange::SET.new(value: 'jane.doe@example.net'),
                              phone: S::ContactChange::KEEP.new)
view = engine.update_contacts(ADMIN, 'jdoe@example.org', update, CTX)
check(view.email.masked == 'j***@e***.net', "masked #{view.email.masked}")

challenge = engine.begin_reset('JDoe@Example.org', CTX)
check(challenge.flow_id.length == 32, 'flow id')
check(challenge.methods.map(&:masked) == ['j***@e***.net'], 'methods')
check(challenge.expires_at == START + 900, "expires_at #{challenge.expires_at}")
sent = engine.send_pin(challenge.flow_id, 'email', nil, CTX)
check(sent.attempts_left == 5, 'attempts left')
# send_pin answers before the notifier has run (deliveries are off the request path).
engine.flush_deliveries
pin = notifier.last_pin
check(pin.length == 8 && notifier.sent.last.to == 'jane.doe@example.net', 'the PIN reached the Ruby notifier')

wrong = (pin[0] == '1' ? '2' : '1') + pin[1..]
e = expect(S::SsprError::WrongPin, 'wrong PIN') { engine.verify_pin(challenge.flow_id, wrong, CTX) }
check(e && e.attempts_left == 4, 'attempts left 4')
check(e && !e.to_s.include?(wrong), 'the error does not hold the PIN')
verified = engine.verify_pin(challenge.flow_id, pin, CTX)
check(verified.modes.first == S::CompletionMode::TEMPORARY, 'modes')
outcome = engine.complete_reset(challenge.flow_id, S::NewPassword::TEMPORARY.new, CTX)
check(outcome.must_change && outcome.temporary_password.length == 16, 'outcome')
check(directory.passwords[JANE_ID] == [outcome.temporary_password, true],
      'the Ruby directory got the temporary password with must-change')
check(contacts.records[JANE_ID].last_reset_at == START, 'the Ruby store recorded the reset')
expect(S::SsprError::AlreadyUsed, 'once only') do
  engine.complete_reset(challenge.flow_id, S::NewPassword::TEMPORARY.new, CTX)
end
check(engine.sign_in('jdoe@example.org', outcome.temporary_password, CTX).must_change, 'sign in')
expect(S::SsprError::SignInFailed, 'wrong password') { engine.sign_in('jdoe@example.org', 'Wrong-Pass-1', CTX) }
check(engine.search_users('DOE', 5).map(&:login) == ['jdoe@example.org'], 'search')
# Printed (to_s, inspect, interpolation, an exception's message), no value shows its secret; the
# field still holds it.
notice = notifier.sent.select { |n| n.kind == S::MessageKind::PIN }.last
chosen = S::NewPassword::CHOSEN.new(password: 'Correct-Horse-Battery-9')
[['ResetChallenge', challenge, challenge.flow_id], ['Notification', notice, pin],
 ['ResetOutcome', outcome, outcome.temporary_password], ['Chosen', chosen, chosen.password]].each do |name, value, secret|
  shown = [value.to_s, value.inspect, "#{value}", [value].inspect, RuntimeError.new("failed: #{value}").message]
  check(secret.length >= 8 && shown.none? { |text| text.include?(secret) }, "#{name} printed its secret: #{shown[0]}")
  check(value.inspect.include?(name), "#{name} still says what it is: #{value.inspect}")
end

second = engine.begin_reset('jdoe@example.org', CTX)
engine.send_pin(second.flow_id, 'email', nil, CTX)
engine.flush_deliveries
clock.advance(601)
expect(S::SsprError::Expired, 'expired') { engine.verify_pin(second.flow_id, notifier.last_pin, CTX) }
e = expect(S::SsprError::InvalidInput, 'control character') { engine.begin_reset("jdoe\u0001@example.org", CTX) }
check(e && e.field == 'login', 'field login')
directory.down = true
e = expect(S::SsprError::Backend, 'directory down') { engine.begin_reset('jdoe@example.org', CTX) }
check(e && e.kind == S::BackendErrorKind::UNAVAILABLE, 'backend kind')

# Drain deliveries before Ruby exits: one still running would call into a finished interpreter.
engine.flush_deliveries

# The default settings (the system clock, answers padded): the engine delivers the PIN from its
# own thread after send_pin answered; ruby-ffi runs that call on a Ruby thread once the GVL is
# free. Waited for with `sleep` (which frees the GVL) before flush_deliveries, which holds it.
padded_notifier = RubyNotifier.new
padded = S::Engine.new(S::EngineConfig.new(secret_key: ([7] * 32).pack('C*'), backend_timeout_ms: 2000),
                       RubyDirectory.new, padded_notifier, RubyContacts.new)
padded.set_enabled(ADMIN, 'jdoe@example.org', true, CTX)
padded.update_contacts(ADMIN, 'jdoe@example.org', update, CTX)
padded_challenge = padded.begin_reset('jdoe@example.org', CTX)
check(padded.send_pin(padded_challenge.flow_id, 'email', nil, CTX).attempts_left == 5, 'padded send_pin answers OK')
400.times do
  break unless padded_notifier.sent.empty?

  sleep 0.005
end
check(!padded_notifier.sent.empty?, 'the PIN reached the Ruby notifier from the engine\'s thread')
padded_pin = padded_notifier.sent.empty? ? '00000000' : padded_notifier.last_pin
check(!padded.verify_pin(padded_challenge.flow_id, padded_pin, CTX).modes.empty?, 'and verifies')
padded.flush_deliveries
puts "ruby: #{$passed} passed, #{$failed} failed"
exit($failed.zero? ? 0 : 1)

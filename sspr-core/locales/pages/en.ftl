# The web pages' texts, in English (the reference: every other language has exactly these
# keys, and each message the same variables; sspr-core/src/l10n.rs tests it). The portal
# reads them through sspr_core::pages; a key is its field name with `-` for `_`.
# Arguments are named per message; $at is a date from `datetime` (the notices' resource),
# $time a clock time with its offset ("20:04 (UTC+1)"), both in the policy's time zone.
# The reset flow (start, code, completion, errors) must read alike for an account that
# exists and one that does not: no message may depend on which it is.

## Fixed texts

brand = Password self-service
index-intro = Forgot your password? Reset it yourself with a one-time code sent to your alternate e-mail address or mobile phone.
index-reset = Reset my password
index-register = Register my alternate e-mail and mobile
index-admin = Administration
index-outbox = Development outbox (codes “sent” by e-mail and SMS)
reset-title = Reset your password
reset-intro = Enter your user name. We will send a one-time code to a contact you registered.
login-label = User name (e.g. jane.doe@example.org)
continue-btn = Continue
methods-intro = Where should we send your one-time code?
via-email = E-mail to
via-sms = Text message to
confirm-label = To confirm, type the full address or number
send-btn = Send code
start-over = Start over
pin-label = One-time code
verify-btn = Verify
new-code = Send a new code
modes-intro = Code confirmed. How do you want to continue?
mode-temporary = Give me a temporary password
mode-unlock = Only unlock my account
mode-chosen = Set a password of my own
new-password-label = New password
new-password-again-label = New password again
passwords-differ = The two passwords differ.
temp-title = Your temporary password
temp-note = Write it down now: it is shown only once and never sent. You must change it when you next sign in.
unlocked-done = Your account is unlocked. Sign in with your current password.
chosen-done = Your password was changed. Sign in with your new password.
second-method = Your account needs a code on a second method as well.
err-login = Enter a valid user name.
err-method = Choose where to send the code.
err-confirm = Type the full address or number, exactly as registered.
err-expired = This reset has expired. Please start again.
err-used = This reset was already used. Please start again.
err-voided = Too many wrong codes: this code is void. Please start again.
err-state = This step is not possible now. Please start again.
err-unavailable = The service is unavailable right now. Please try again later.
err-challenge-required = Please complete the check that you are not a robot, then continue.
err-challenge-failed = The check that you are not a robot did not succeed. Please try it again.
err-challenge-unavailable = The check that you are not a robot cannot be verified right now. Please try again later.
err-not-allowed = Self-service reset is not possible for this account. Please contact the IT help desk.
err-session = Your session has expired or the form is stale. Please reload the page and try again.
err-input = The input was not accepted.
signin-title = Sign in
password-label = Password
signin-btn = Sign in
oidc-signin-btn = Sign in with your organisation account
oidc-continue = Continue signing in
signout-btn = Sign out
signin-failed = The user name or password is wrong.
register-title = Your contact details for password reset
register-intro = A one-time code goes to one of these when you reset your password. Use an address and a number that do not depend on your work account.
email-label = Alternate e-mail address
phone-label = Mobile phone (international format, e.g. +44 7400 900123)
save-btn = Save
saved = Saved. Your contact details were updated.
code-label = Code
confirm-btn = Confirm
proof-dead = That code no longer works. Save the contact again to get a new one.
not-enabled = Self-service password reset is not enabled for your account. Please contact the IT help desk.
must-change-note = Your password must be changed before you go on.
must-change-link = Change your password now
index-change = Change my password
change-title = Change password
change-intro = Type your user name, your current password (or the temporary one you were given) and a new password.
current-password-label = Current password
change-btn = Change password
changed = Your password was changed. Use the new one from now on.
change-unsupported = Passwords cannot be changed here for this directory. Please use your computer's own password change.
rules-title = The new password must
rule-complexity = mix at least three of: capital letters, small letters, digits, symbols; and not contain your user name
admin-must-change = Your password must be changed before you can use the administration pages: sign in to your computer or the account portal to change it.
admin-title = Administration
admin-signin-title = Administrator sign-in
search-label = Find users (login or name)
search-btn = Search
no-results = No user found.
search-too-long = The search is too long: at most { $max } characters.
col-login = Login
col-name = Name
col-status = Status
col-contacts = Contacts
enabled = enabled
disabled = not enabled
eligible = eligible
ineligible = not eligible
privileged = privileged
account-disabled = account disabled
account-locked = account locked
enable-btn = Enable SSPR
disable-btn = Disable SSPR
unblock-btn = Unblock
blocked-until = Blocked until
last-reset = Last reset
never = never
unknown-user = No such user.
audit-title = Audit log (newest first)
done = Done.
outbox-title = Development outbox
outbox-note = Nothing is really sent: every e-mail and text message lands here. Turn this page off (outbox_page = false) and configure SMTP/SMS for production.
outbox-empty = No messages yet.
outbox-preview-title = Preview every notice in every language
outbox-preview-note = Every notice sspr sends, with sample values, in each of its six languages: as an e-mail, and as the text message a phone gets. Dates are in the policy's time zone
back = Back
reconfirm-note = Your contact details were confirmed a while ago. Are they still right? Change them below, or confirm them as they are.
reconfirm-btn = They are still right
report-title = Registration report
report-ous = OUs (one DN per line; empty: all)
report-groups = Groups (one per line; empty: all)
report-stale-days = Contacts stale after (days; empty: the policy's)
report-btn = Show report
remind-btn = Send registration reminders
remind-note = A reminder goes to the directory mailbox of each enabled user shown without contacts or with stale ones, at most once per reminder interval; privileged users are never reminded.
count-users = users
count-enabled = enabled
count-registered = registered
count-without-contacts = without contacts
count-stale = stale contacts
count-never-used = never used
count-blocked = blocked
count-privileged = privileged
count-without-mailbox = without mailbox
flag-no-contacts = no contacts
flag-stale = stale
flag-never-used = never used
flag-blocked = blocked
audit-col-time = Time
audit-col-event = Event
audit-col-user = User
audit-col-detail = Detail
audit-col-ip = IP
audit-col-actor = Actor
audit-col-outcome = Outcome
reports-title = Reports (last 30 days)
reports-unavailable = Reports read the audit trail kept in SQL: set [audit] kind = "sqlite" or "postgres" in the portal's configuration.
figure-begun = resets begun
figure-decoys = decoy answers
figure-completed = resets completed
figure-failed = resets failed
figure-blocked = users blocked
figure-registrations = registrations
reports-resets = Resets per day
reports-completed = completed
reports-failed = failed
reports-registrations = Registrations per day
reports-blocks = Users blocked per day
reports-decoys = Decoy answers by reason
reports-failures = Most frequent failures
reports-none = None in these 30 days.

## Helpdesk recovery

recovery-link = I have a code from the helpdesk
recovery-title = Code from the helpdesk
recovery-intro = Your helpdesk gave you (or sent you) a one-time recovery code. Enter your user name and the code.
recovery-code-label = Recovery code
recovery-redeem-btn = Continue
recovery-wrong = The code is wrong or no longer valid. Check the user name and the code; if it still fails, ask the helpdesk for a new code.
recovery-admin-title = Helpdesk recovery
recovery-admin-intro = For a user who cannot receive a reset code: a one-time code, valid 15 minutes, that the user enters under “I have a code from the helpdesk” on the reset page. Check the caller's identity first. The user's contacts are told.
recovery-show = Show the code here (read it out to the user)
recovery-by-email = Send it to the registered e-mail
recovery-by-sms = Send it to the registered mobile
recovery-issue-btn = Issue a recovery code
recovery-code-title = Recovery code (shown once)
recovery-code-note = Read it out to the user now; it is not shown again. A new code replaces this one.
recovery-sent = A recovery code was sent to { $masked } (valid until { $at }).
recovery-valid-until = Valid until: { $at }

## Texts with values

# Said alike for real and unknown accounts.
pin-sent = A code was sent to { $masked }.
pin-status = Valid until { $time }. { $attempts ->
        [one] { $attempts } attempt left.
       *[other] { $attempts } attempts left.
    }
pin-hint = The { $digits } digits from the message
wrong-pin = The code is wrong. { $attempts ->
        [one] { $attempts } attempt left.
       *[other] { $attempts } attempts left.
    }
pin-digits = Enter the { $digits } digits you received.
rate-limited = Too many requests. Please try again in { $minutes ->
        [one] { $minutes } minute.
       *[other] { $minutes } minutes.
    }
blocked = Too many wrong codes: self-service reset is blocked until { $at }.
reminders-done = Reminders sent: { $sent }. Already reminded: { $already }, without mailbox: { $without_mail }, privileged (never reminded): { $privileged }, cannot register: { $ineligible }, failed: { $failed }.
proof-sent = We sent a code to { $masked }. Type it here to save this contact.
usable-from = usable for codes from { $at }
# $reason: the policy's, a password checker's or the directory's own words (not translated).
password-rejected = The password was refused: { $reason }.
rule-min-length = be at least { $n ->
        [one] { $n } character
       *[other] { $n } characters
    } long
rule-history = differ from your last { $n ->
        [one] password
       *[other] { $n } passwords
    }
# $unit: hours, or minutes below an hour.
rule-min-age = then be kept at least { $unit ->
        [hours] { $n ->
            [one] { $n } hour
           *[other] { $n } hours
        }
       *[minutes] { $n ->
            [one] { $n } minute
           *[other] { $n } minutes
        }
    } before you can change it again
# Why a new password was refused, by the rule it broke; $reason: the directory's or the policy's own words.
refusal = { $rule ->
        [too-short] The new password is too short.
        [too-recent] Your password was changed too recently to be changed again yet.
        [in-history] You used this password before: choose another.
        [too-simple] The new password is too simple.
        [breached] The new password appears in lists of breached passwords.
       *[other] The new password was refused.
    } ({ $reason })
signed-in-as = Signed in as { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Enter your code
second-title = One more code
modes-title = Code accepted
done-title = Done
add-contact = Add or change
contact-value = Address or number
err-too-large = The request is too large.
err-not-possible = This is not possible here. Please contact the IT help desk.
# $channel: email or sms (the method the code went by). Said alike for real and unknown accounts.
code-sent-by = We sent a code { $channel ->
        [sms] by text message
       *[email] by e-mail
    }.
send-by = Send a code { $channel ->
        [sms] by text message
       *[email] by e-mail
    }
# $field: the form field's name as sent (login, pin, mode...).
err-field = Please check your input ({ $field }).

# Notices sspr sends, in English (the reference: every other language has exactly these keys).
# Arguments: $pin (the code), $minutes (its lifetime), $at (a date from `datetime`),
# $masked (a masked address), $channel (email, sms), and selectors named per message.
# `-sms` messages go to phones: one SMS segment (160 GSM-7 characters, or 70 if any
# character needs UCS-2), so they avoid characters outside GSM-7 (sspr-core/tests/notices.rs).
# Administrators' alerts are sent in English by the engine; they are kept in every language
# so a host may render them in another.

## A date and time: $day, $month (1 to 12), $year, $time (HH:MM), $offset (UTC, UTC+1, ...).
## "en" has no region: day-month order and a 24-hour clock, unambiguous on both sides of the Atlantic.
datetime = { $day } { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { $year } at { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }

pin-reset-subject = Your password reset code
pin-reset-body = Your code is { $pin }. It is valid for { duration-minutes }. Never share it; we will never ask you for it. If you did not ask for it, ignore this message.
pin-reset-sms = Your code is { $pin }. It is valid for { duration-minutes }. Never share it; we will never ask you for it. If you did not ask for it, ignore this.

pin-proof-subject = Your code to confirm your contact details
pin-proof-body = Your code is { $pin }. It is valid for { duration-minutes }. Type it on the page where you are adding this address for resetting your password. Never share it. If you did not ask for it, ignore this message.
pin-proof-sms = Your code is { $pin }. Type it where you are adding this number for password reset. Valid for { duration-minutes }. Never share it.

pin-helpdesk-subject = Your recovery code from the helpdesk
pin-helpdesk-body = Your helpdesk sent you this code: { $pin }. It is valid for { duration-minutes }. Type it on the password reset page under "I have a code from the helpdesk". Never share it. If you did not call the helpdesk, tell them at once.
pin-helpdesk-sms = Your helpdesk sent you this code: { $pin }. Valid for { duration-minutes }. Never share it. If you did not call the helpdesk, tell them at once.

reset-requested-subject = Password reset requested
reset-requested-body = On { $at } a reset of your password was requested and a code sent to { $masked }. If this was not you, contact your IT support.
reset-requested-sms = A reset of your password was requested and a code sent { $channel ->
        [sms] by text message
       *[email] by e-mail
    }. If this was not you, contact your IT support.

password-reset-subject = { $unlock ->
        [yes] Your account was unlocked
       *[no] Your password was reset
    }
password-reset-body = On { $at } { $unlock ->
        [yes] your account was unlocked
       *[no] your password was reset
    } through self-service. If this was not you, contact your IT support at once.
password-reset-sms = { $unlock ->
        [yes] Your account was unlocked
       *[no] Your password was reset
    } through self-service. If this was not you, contact your IT support at once.

contacts-changed-subject = Your contact details were changed
contacts-changed-body = On { $at } the contact details for resetting your password were changed{ $by ->
        [admin] { " " }by an administrator
       *[user] { "" }
    }. If this was not you, contact your IT support.
contacts-changed-sms = The contact details for resetting your password were changed{ $by ->
        [admin] { " " }by an administrator
       *[user] { "" }
    }. If this was not you, contact your IT support.

password-changed-subject = Your password was changed
password-changed-body = On { $at } your password was changed with the current password. If this was not you, contact your IT support at once.
password-changed-sms = Your password was changed with the current password. If this was not you, contact your IT support at once.

registration-reminder-subject = { $confirm ->
        [yes] Confirm your contact details for resetting your password
       *[no] Register contact details for resetting your password
    }
registration-reminder-body = { $confirm ->
        [yes] Your contact details for resetting your password have not been confirmed for a long time. Sign in at { $url } and confirm or change them.
       *[no] Your account has no contact details yet for resetting a forgotten password yourself. Sign in at { $url } and add a personal e-mail address or mobile number.
    } We never ask for your password by e-mail.

helpdesk-recovery-subject = Helpdesk recovery of your account
helpdesk-recovery-body = On { $at } { $redeemed ->
        [yes] a helpdesk recovery code for your account was redeemed.
       *[no] the helpdesk issued a recovery code for your account.
    } If this was not you, contact your IT support at once.
helpdesk-recovery-sms = { $redeemed ->
        [yes] A helpdesk recovery code for your account was redeemed.
       *[no] The helpdesk issued a recovery code for your account.
    } If this was not you, contact your IT support at once.

admin-alert-subject = Security notice from password self-service
admin-alert-failure-alarm = At { $at } failed PIN verifications across all users reached the alarm threshold (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }from { $ip }
    }: someone may be guessing PINs on many accounts.
admin-alert-privileged = At { $at } a self-service password reset or recovery was attempted for the privileged account { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }from { $ip }
    } and refused (the caller was told nothing that shows it).
admin-alert-unknown-account = (unknown)
admin-alert-footer = If this was not expected, review the audit log. Further notices of this kind are held back for { duration-minutes }.

# Die Benachrichtigungen von sspr, auf Deutsch (Schlüssel wie en.ftl).
# `-sms`-Texte: ein SMS-Segment, nur GSM-7-Zeichen (keine „…“).

datetime = { $day }. { $month ->
        [1] Januar
        [2] Februar
        [3] März
        [4] April
        [5] Mai
        [6] Juni
        [7] Juli
        [8] August
        [9] September
        [10] Oktober
        [11] November
       *[12] Dezember
    } { $year } um { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    }

pin-reset-subject = Ihr Code zum Zurücksetzen des Kennworts
pin-reset-body = Ihr Code lautet { $pin }. Er ist { duration-minutes } gültig. Geben Sie ihn niemandem weiter; wir fragen nie danach. Haben Sie nichts angefordert, ignorieren Sie diese Nachricht.
pin-reset-sms = Ihr Code lautet { $pin }. Er ist { duration-minutes } gültig. Geben Sie ihn niemandem weiter; wir fragen nie danach. Nicht angefordert? Ignorieren.

pin-proof-subject = Ihr Code zum Bestätigen Ihrer Kontaktdaten
pin-proof-body = Ihr Code lautet { $pin }. Er ist { duration-minutes } gültig. Geben Sie ihn auf der Seite ein, auf der Sie diese Adresse für das Zurücksetzen Ihres Kennworts hinterlegen. Geben Sie ihn niemandem weiter. Haben Sie nichts angefordert, ignorieren Sie diese Nachricht.
pin-proof-sms = Ihr Code lautet { $pin }. Geben Sie ihn dort ein, wo Sie diese Nummer hinterlegen. { duration-minutes } gültig. Geben Sie ihn niemandem weiter.

pin-helpdesk-subject = Ihr Wiederherstellungscode vom IT-Support
pin-helpdesk-body = Ihr IT-Support hat Ihnen diesen Code geschickt: { $pin }. Er ist { duration-minutes } gültig. Geben Sie ihn auf der Seite zum Zurücksetzen des Kennworts unter „Ich habe einen Code vom IT-Support“ ein. Geben Sie ihn niemandem weiter. Haben Sie den IT-Support nicht angerufen, melden Sie sich dort sofort.
pin-helpdesk-sms = Ihr Code vom IT-Support: { $pin }. { duration-minutes } gültig. Geben Sie ihn niemandem weiter. Nicht beim IT-Support angerufen? Melden Sie sich sofort dort.

reset-requested-subject = Zurücksetzen Ihres Kennworts angefordert
reset-requested-body = Am { $at } wurde das Zurücksetzen Ihres Kennworts angefordert und ein Code an { $masked } gesendet. Waren Sie das nicht, wenden Sie sich an Ihren IT-Support.
reset-requested-sms = Das Zurücksetzen Ihres Kennworts wurde angefordert und ein Code { $channel ->
        [sms] per SMS
       *[email] per E-Mail
    } gesendet. Waren Sie das nicht, wenden Sie sich an Ihren IT-Support.

password-reset-subject = { $unlock ->
        [yes] Ihr Konto wurde entsperrt
       *[no] Ihr Kennwort wurde zurückgesetzt
    }
password-reset-body = Am { $at } wurde { $unlock ->
        [yes] Ihr Konto entsperrt
       *[no] Ihr Kennwort zurückgesetzt
    } per Self-Service. Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.
password-reset-sms = { $unlock ->
        [yes] Ihr Konto wurde per Self-Service entsperrt.
       *[no] Ihr Kennwort wurde per Self-Service zurückgesetzt.
    } Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.

contacts-changed-subject = Ihre Kontaktdaten wurden geändert
contacts-changed-body = Am { $at } wurden die Kontaktdaten zum Zurücksetzen Ihres Kennworts { $by ->
        [admin] von einem Administrator geändert
       *[user] geändert
    }. Waren Sie das nicht, wenden Sie sich an Ihren IT-Support.
contacts-changed-sms = Die Kontaktdaten zum Zurücksetzen Ihres Kennworts wurden { $by ->
        [admin] von einem Administrator geändert
       *[user] geändert
    }. Waren Sie das nicht, wenden Sie sich an Ihren IT-Support.

password-changed-subject = Ihr Kennwort wurde geändert
password-changed-body = Am { $at } wurde Ihr Kennwort mit dem bisherigen Kennwort geändert. Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.
password-changed-sms = Ihr Kennwort wurde mit dem bisherigen Kennwort geändert. Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.

registration-reminder-subject = { $confirm ->
        [yes] Bestätigen Sie Ihre Kontaktdaten zum Zurücksetzen des Kennworts
       *[no] Hinterlegen Sie Kontaktdaten zum Zurücksetzen Ihres Kennworts
    }
registration-reminder-body = { $confirm ->
        [yes] Ihre Kontaktdaten zum Zurücksetzen Ihres Kennworts wurden lange nicht bestätigt. Melden Sie sich auf { $url } an und bestätigen oder ändern Sie sie.
       *[no] Für Ihr Konto sind noch keine Kontaktdaten hinterlegt, mit denen Sie ein vergessenes Kennwort selbst zurücksetzen können. Melden Sie sich auf { $url } an und hinterlegen Sie eine private E-Mail-Adresse oder Mobilnummer.
    } Wir fragen nie per E-Mail nach Ihrem Kennwort.

helpdesk-recovery-subject = Wiederherstellung über den IT-Support
helpdesk-recovery-body = Am { $at } wurde { $redeemed ->
        [yes] ein Wiederherstellungscode des IT-Supports für Ihr Konto eingelöst.
       *[no] vom IT-Support ein Wiederherstellungscode für Ihr Konto ausgestellt.
    } Waren Sie das nicht, wenden Sie sich sofort an Ihren IT-Support.
helpdesk-recovery-sms = { $redeemed ->
        [yes] Ein Wiederherstellungscode des IT-Supports wurde für Ihr Konto eingelöst.
       *[no] Der IT-Support hat einen Wiederherstellungscode für Ihr Konto ausgestellt.
    } Waren Sie das nicht? Melden Sie sich sofort beim IT-Support.

admin-alert-subject = Sicherheitshinweis vom Kennwort-Self-Service
admin-alert-failure-alarm = Am { $at } erreichten die fehlgeschlagenen PIN-Prüfungen über alle Benutzer die Alarmschwelle (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }von { $ip }
    }: Möglicherweise rät jemand PINs für viele Konten.
admin-alert-privileged = Am { $at } wurde für das privilegierte Konto { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }von { $ip }
    } ein Zurücksetzen des Kennworts oder eine Wiederherstellung per Self-Service versucht und abgelehnt (der Anfragende hat nichts erfahren, was das verrät).
admin-alert-unknown-account = (unbekannt)
admin-alert-footer = War das nicht zu erwarten, prüfen Sie das Audit-Protokoll. Weitere Hinweise dieser Art werden { duration-minutes } lang zurückgehalten.

# Die Texte der Webseiten, auf Deutsch (dieselben Schlüssel und Variablen wie en.ftl).

## Feste Texte

brand = Kennwort-Self-Service
index-intro = Kennwort vergessen? Setzen Sie es selbst zurück, mit einem Einmal-Code an Ihre alternative E-Mail-Adresse oder Ihr Mobiltelefon.
index-reset = Mein Kennwort zurücksetzen
index-register = Alternative E-Mail-Adresse und Mobilnummer hinterlegen
index-admin = Verwaltung
index-outbox = Entwicklungs-Postausgang (per E-Mail und SMS „gesendete“ Codes)
reset-title = Kennwort zurücksetzen
reset-intro = Geben Sie Ihren Benutzernamen ein. Wir senden einen Einmal-Code an eine hinterlegte Kontaktadresse.
login-label = Benutzername (z. B. jane.doe@example.org)
continue-btn = Weiter
methods-intro = Wohin sollen wir Ihren Einmal-Code senden?
via-email = E-Mail an
via-sms = SMS an
confirm-label = Geben Sie zur Bestätigung die vollständige Adresse oder Nummer ein
send-btn = Code senden
start-over = Neu beginnen
pin-label = Einmal-Code
verify-btn = Prüfen
new-code = Neuen Code senden
modes-intro = Code bestätigt. Wie möchten Sie fortfahren?
mode-temporary = Ein temporäres Kennwort erhalten
mode-unlock = Nur mein Konto entsperren
mode-chosen = Ein eigenes Kennwort festlegen
new-password-label = Neues Kennwort
new-password-again-label = Neues Kennwort wiederholen
passwords-differ = Die beiden Kennwörter stimmen nicht überein.
temp-title = Ihr temporäres Kennwort
temp-note = Notieren Sie es jetzt: Es wird nur einmal angezeigt und nie versendet. Sie müssen es bei der nächsten Anmeldung ändern.
unlocked-done = Ihr Konto ist entsperrt. Melden Sie sich mit Ihrem bisherigen Kennwort an.
chosen-done = Ihr Kennwort wurde geändert. Melden Sie sich mit dem neuen Kennwort an.
second-method = Für Ihr Konto ist zusätzlich ein Code über eine zweite Methode nötig.
err-login = Geben Sie einen gültigen Benutzernamen ein.
err-method = Wählen Sie, wohin der Code gesendet werden soll.
err-confirm = Geben Sie die vollständige Adresse oder Nummer genau wie hinterlegt ein.
err-expired = Dieser Vorgang ist abgelaufen. Bitte beginnen Sie neu.
err-used = Dieser Vorgang wurde bereits verwendet. Bitte beginnen Sie neu.
err-voided = Zu viele falsche Codes: Dieser Code ist ungültig. Bitte beginnen Sie neu.
err-state = Dieser Schritt ist jetzt nicht möglich. Bitte beginnen Sie neu.
err-unavailable = Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.
err-challenge-required = Bitte bestätigen Sie zuerst, dass Sie kein Roboter sind.
err-challenge-failed = Die Prüfung, dass Sie kein Roboter sind, ist fehlgeschlagen. Bitte versuchen Sie es erneut.
err-challenge-unavailable = Die Prüfung, dass Sie kein Roboter sind, ist gerade nicht möglich. Bitte versuchen Sie es später erneut.
err-not-allowed = Für dieses Konto ist das Zurücksetzen per Self-Service nicht möglich. Bitte wenden Sie sich an den IT-Support.
err-session = Ihre Sitzung ist abgelaufen oder das Formular veraltet. Bitte laden Sie die Seite neu und versuchen Sie es erneut.
err-input = Die Eingabe wurde nicht angenommen.
signin-title = Anmelden
password-label = Kennwort
signin-btn = Anmelden
oidc-signin-btn = Mit dem Konto Ihrer Organisation anmelden
oidc-continue = Anmeldung fortsetzen
signout-btn = Abmelden
signin-failed = Benutzername oder Kennwort ist falsch.
register-title = Ihre Kontaktdaten zum Zurücksetzen des Kennworts
register-intro = Beim Zurücksetzen Ihres Kennworts geht ein Einmal-Code an eine dieser Adressen. Verwenden Sie eine Adresse und eine Nummer, die nicht von Ihrem Arbeitskonto abhängen.
email-label = Alternative E-Mail-Adresse
phone-label = Mobiltelefon (internationales Format, z. B. +49 151 23456789)
save-btn = Speichern
saved = Gespeichert. Ihre Kontaktdaten wurden aktualisiert.
code-label = Code
confirm-btn = Bestätigen
proof-dead = Dieser Code gilt nicht mehr. Speichern Sie die Kontaktangabe erneut, um einen neuen zu erhalten.
not-enabled = Das Zurücksetzen per Self-Service ist für Ihr Konto nicht freigeschaltet. Bitte wenden Sie sich an den IT-Support.
must-change-note = Ihr Kennwort muss geändert werden, bevor Sie fortfahren.
must-change-link = Kennwort jetzt ändern
index-change = Mein Kennwort ändern
change-title = Kennwort ändern
change-intro = Geben Sie Ihren Benutzernamen, Ihr aktuelles Kennwort (oder das erhaltene temporäre) und ein neues Kennwort ein.
current-password-label = Aktuelles Kennwort
change-btn = Kennwort ändern
changed = Ihr Kennwort wurde geändert. Verwenden Sie ab jetzt das neue.
change-unsupported = Für dieses Verzeichnis können Kennwörter hier nicht geändert werden. Bitte ändern Sie es an Ihrem Computer.
rules-title = Das neue Kennwort muss
rule-complexity = mindestens drei der folgenden enthalten: Großbuchstaben, Kleinbuchstaben, Ziffern, Sonderzeichen; und nicht Ihren Benutzernamen
admin-must-change = Ihr Kennwort muss geändert werden, bevor Sie die Verwaltungsseiten nutzen können: Melden Sie sich an Ihrem Computer oder im Kontoportal an, um es zu ändern.
admin-title = Verwaltung
admin-signin-title = Anmeldung für Administratoren
search-label = Benutzer suchen (Anmeldename oder Name)
search-btn = Suchen
no-results = Kein Benutzer gefunden.
search-too-long = Die Suche ist zu lang: höchstens { $max } Zeichen.
col-login = Anmeldename
col-name = Name
col-status = Status
col-contacts = Kontakte
enabled = freigeschaltet
disabled = nicht freigeschaltet
eligible = berechtigt
ineligible = nicht berechtigt
privileged = privilegiert
account-disabled = Konto deaktiviert
account-locked = Konto gesperrt
enable-btn = SSPR freischalten
disable-btn = SSPR abschalten
unblock-btn = Sperre aufheben
blocked-until = Gesperrt bis
last-reset = Letzte Zurücksetzung
never = nie
unknown-user = Diesen Benutzer gibt es nicht.
audit-title = Audit-Protokoll (neueste zuerst)
done = Erledigt.
outbox-title = Entwicklungs-Postausgang
outbox-note = Hier wird nichts wirklich versendet: Jede E-Mail und SMS landet hier. Schalten Sie diese Seite für den Betrieb ab (outbox_page = false) und richten Sie SMTP/SMS ein.
outbox-empty = Noch keine Nachrichten.
outbox-preview-title = Vorschau aller Benachrichtigungen in allen Sprachen
outbox-preview-note = Jede Benachrichtigung von sspr mit Beispielwerten in jeder seiner sechs Sprachen: als E-Mail und als SMS, wie sie ein Telefon erhält. Datumsangaben in der Zeitzone der Richtlinie
back = Zurück
reconfirm-note = Ihre Kontaktdaten wurden vor längerer Zeit bestätigt. Stimmen sie noch? Ändern Sie sie unten, oder bestätigen Sie sie so, wie sie sind.
reconfirm-btn = Sie stimmen noch
report-title = Registrierungsbericht
report-ous = OUs (ein DN pro Zeile; leer: alle)
report-groups = Gruppen (eine pro Zeile; leer: alle)
report-stale-days = Kontaktdaten veraltet nach (Tagen; leer: laut Richtlinie)
report-btn = Bericht anzeigen
remind-btn = Registrierungserinnerungen senden
remind-note = Eine Erinnerung geht an das Verzeichnis-Postfach jedes freigeschalteten Benutzers ohne oder mit veralteten Kontaktdaten, höchstens einmal pro Erinnerungsintervall; privilegierte Benutzer werden nie erinnert.
count-users = Benutzer
count-enabled = freigeschaltet
count-registered = registriert
count-without-contacts = ohne Kontaktdaten
count-stale = veraltete Kontaktdaten
count-never-used = nie benutzt
count-blocked = gesperrt
count-privileged = privilegiert
count-without-mailbox = ohne Postfach
flag-no-contacts = keine Kontaktdaten
flag-stale = veraltet
flag-never-used = nie benutzt
flag-blocked = gesperrt
audit-col-time = Zeit
audit-col-event = Ereignis
audit-col-user = Benutzer
audit-col-detail = Details
audit-col-ip = IP
audit-col-actor = Akteur
audit-col-outcome = Ergebnis
reports-title = Berichte (letzte 30 Tage)
reports-unavailable = Berichte lesen das in SQL gespeicherte Audit-Protokoll: setzen Sie [audit] kind = "sqlite" oder "postgres" in der Konfiguration des Portals.
figure-begun = begonnene Zurücksetzungen
figure-decoys = Schein-Antworten
figure-completed = abgeschlossen
figure-failed = fehlgeschlagen
figure-blocked = gesperrte Benutzer
figure-registrations = Registrierungen
reports-resets = Zurücksetzungen pro Tag
reports-completed = abgeschlossen
reports-failed = fehlgeschlagen
reports-registrations = Registrierungen pro Tag
reports-blocks = Gesperrte Benutzer pro Tag
reports-decoys = Schein-Antworten nach Grund
reports-failures = Häufigste Fehler
reports-none = Keine in diesen 30 Tagen.

## Wiederherstellung durch den IT-Support

recovery-link = Ich habe einen Code vom IT-Support
recovery-title = Code vom IT-Support
recovery-intro = Ihr IT-Support hat Ihnen einen Einmal-Wiederherstellungscode genannt oder geschickt. Geben Sie Ihren Benutzernamen und den Code ein.
recovery-code-label = Wiederherstellungscode
recovery-redeem-btn = Weiter
recovery-wrong = Der Code ist falsch oder nicht mehr gültig. Prüfen Sie Benutzernamen und Code; schlägt es weiter fehl, bitten Sie den IT-Support um einen neuen Code.
recovery-admin-title = Wiederherstellung durch den IT-Support
recovery-admin-intro = Für Benutzer, die keinen Code empfangen können: ein Einmal-Code, 15 Minuten gültig, den der Benutzer auf der Seite zum Zurücksetzen unter „Ich habe einen Code vom IT-Support“ eingibt. Prüfen Sie zuerst die Identität des Anrufers. Die Kontakte des Benutzers werden benachrichtigt.
recovery-show = Code hier anzeigen (dem Benutzer vorlesen)
recovery-by-email = An die hinterlegte E-Mail-Adresse senden
recovery-by-sms = An die hinterlegte Mobilnummer senden
recovery-issue-btn = Wiederherstellungscode ausstellen
recovery-code-title = Wiederherstellungscode (einmalig angezeigt)
recovery-code-note = Lesen Sie ihn dem Benutzer jetzt vor; er wird nicht erneut angezeigt. Ein neuer Code ersetzt diesen.
recovery-sent = Ein Wiederherstellungscode wurde an { $masked } gesendet (gültig bis { $at }).
recovery-valid-until = Gültig bis: { $at }

## Texte mit Werten

pin-sent = Ein Code wurde an { $masked } gesendet.
pin-status = Gültig bis { $time }. { $attempts ->
        [one] Noch { $attempts } Versuch.
       *[other] Noch { $attempts } Versuche.
    }
pin-hint = Die { $digits } Ziffern aus der Nachricht
wrong-pin = Der Code ist falsch. { $attempts ->
        [one] Noch { $attempts } Versuch.
       *[other] Noch { $attempts } Versuche.
    }
pin-digits = Geben Sie die { $digits } Ziffern ein, die Sie erhalten haben.
rate-limited = Zu viele Anfragen. Bitte versuchen Sie es in { $minutes ->
        [one] { $minutes } Minute
       *[other] { $minutes } Minuten
    } erneut.
blocked = Zu viele falsche Codes: Das Zurücksetzen ist bis { $at } gesperrt.
reminders-done = Erinnerungen gesendet: { $sent }. Bereits erinnert: { $already }, ohne Postfach: { $without_mail }, privilegiert (nie erinnert): { $privileged }, können sich nicht registrieren: { $ineligible }, fehlgeschlagen: { $failed }.
proof-sent = Wir haben einen Code an { $masked } gesendet. Geben Sie ihn ein, um diese Kontaktangabe zu speichern.
usable-from = für Codes nutzbar ab { $at }
password-rejected = Das Kennwort wurde abgelehnt: { $reason }.
rule-min-length = mindestens { $n ->
        [one] { $n } Zeichen
       *[other] { $n } Zeichen
    } lang sein
rule-history = sich von { $n ->
        [one] Ihrem letzten Kennwort
       *[other] Ihren letzten { $n } Kennwörtern
    } unterscheiden
rule-min-age = danach mindestens { $unit ->
        [hours] { $n ->
            [one] { $n } Stunde
           *[other] { $n } Stunden
        }
       *[minutes] { $n ->
            [one] { $n } Minute
           *[other] { $n } Minuten
        }
    } lang behalten werden, bevor Sie es erneut ändern können
refusal = { $rule ->
        [too-short] Das neue Kennwort ist zu kurz.
        [too-recent] Ihr Kennwort wurde vor zu kurzer Zeit geändert, um es schon wieder zu ändern.
        [in-history] Dieses Kennwort haben Sie schon einmal verwendet: Wählen Sie ein anderes.
        [too-simple] Das neue Kennwort ist zu einfach.
        [breached] Das neue Kennwort steht in Listen gestohlener Kennwörter.
       *[other] Das neue Kennwort wurde abgelehnt.
    } ({ $reason })
signed-in-as = Angemeldet als { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Code eingeben
second-title = Noch ein Code
modes-title = Code bestätigt
done-title = Erledigt
add-contact = Hinzufügen oder ändern
contact-value = Adresse oder Nummer
err-too-large = Die Anfrage ist zu groß.
err-not-possible = Das ist hier nicht möglich. Bitte wenden Sie sich an den IT-Support.
code-sent-by = Wir haben einen Code { $channel ->
        [sms] per SMS
       *[email] per E-Mail
    } gesendet.
send-by = Code { $channel ->
        [sms] per SMS
       *[email] per E-Mail
    } senden
err-field = Bitte prüfen Sie Ihre Eingabe ({ $field }).

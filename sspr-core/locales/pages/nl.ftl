# De teksten van de webpagina's, in het Nederlands (dezelfde sleutels en variabelen als en.ftl).

## Vaste teksten

brand = Wachtwoord-selfservice
index-intro = Wachtwoord vergeten? Stel het zelf opnieuw in met een eenmalige code die naar uw alternatieve e-mailadres of mobiele telefoon wordt gestuurd.
index-reset = Mijn wachtwoord opnieuw instellen
index-register = Mijn alternatieve e-mailadres en mobiele nummer registreren
index-admin = Beheer
index-outbox = Ontwikkel-outbox (codes „verstuurd” per e-mail en sms)
reset-title = Uw wachtwoord opnieuw instellen
reset-intro = Voer uw gebruikersnaam in. We sturen een eenmalige code naar een contactgegeven dat u hebt geregistreerd.
login-label = Gebruikersnaam (bijv. jane.doe@example.org)
continue-btn = Doorgaan
methods-intro = Waar moeten we uw eenmalige code naartoe sturen?
via-email = E-mail naar
via-sms = Sms naar
confirm-label = Typ ter bevestiging het volledige adres of nummer
send-btn = Code versturen
start-over = Opnieuw beginnen
pin-label = Eenmalige code
verify-btn = Controleren
new-code = Een nieuwe code versturen
modes-intro = Code bevestigd. Hoe wilt u verdergaan?
mode-temporary = Geef mij een tijdelijk wachtwoord
mode-unlock = Alleen mijn account ontgrendelen
mode-chosen = Zelf een wachtwoord kiezen
new-password-label = Nieuw wachtwoord
new-password-again-label = Nieuw wachtwoord nogmaals
passwords-differ = De twee wachtwoorden zijn niet gelijk.
temp-title = Uw tijdelijke wachtwoord
temp-note = Schrijf het nu op: het wordt maar één keer getoond en nooit verstuurd. U moet het wijzigen wanneer u zich de volgende keer aanmeldt.
unlocked-done = Uw account is ontgrendeld. Meld u aan met uw huidige wachtwoord.
chosen-done = Uw wachtwoord is gewijzigd. Meld u aan met uw nieuwe wachtwoord.
second-method = Voor uw account is ook een code via een tweede methode nodig.
err-login = Voer een geldige gebruikersnaam in.
err-method = Kies waar de code naartoe moet.
err-confirm = Typ het volledige adres of nummer, precies zoals geregistreerd.
err-expired = Deze herstelpoging is verlopen. Begin opnieuw.
err-used = Deze herstelpoging is al gebruikt. Begin opnieuw.
err-voided = Te veel verkeerde codes: deze code is ongeldig. Begin opnieuw.
err-state = Deze stap is nu niet mogelijk. Begin opnieuw.
err-unavailable = De dienst is op dit moment niet beschikbaar. Probeer het later opnieuw.
err-challenge-required = Voltooi eerst de controle dat u geen robot bent en ga dan verder.
err-challenge-failed = De controle dat u geen robot bent, is niet gelukt. Probeer het opnieuw.
err-challenge-unavailable = De controle dat u geen robot bent, kan nu niet worden gecontroleerd. Probeer het later opnieuw.
err-not-allowed = Voor dit account is opnieuw instellen via selfservice niet mogelijk. Neem contact op met de IT-servicedesk.
err-session = Uw sessie is verlopen of het formulier is verouderd. Laad de pagina opnieuw en probeer het nog eens.
err-input = De invoer is niet geaccepteerd.
signin-title = Aanmelden
password-label = Wachtwoord
signin-btn = Aanmelden
oidc-signin-btn = Aanmelden met het account van uw organisatie
oidc-continue = Verder met aanmelden
signout-btn = Afmelden
signin-failed = De gebruikersnaam of het wachtwoord is onjuist.
register-title = Uw contactgegevens voor het herstellen van uw wachtwoord
register-intro = Wanneer u uw wachtwoord opnieuw instelt, gaat er een eenmalige code naar een van deze gegevens. Gebruik een adres en een nummer die niet van uw werkaccount afhangen.
email-label = Alternatief e-mailadres
phone-label = Mobiele telefoon (internationaal formaat, bijv. +31 6 12345678)
save-btn = Opslaan
saved = Opgeslagen. Uw contactgegevens zijn bijgewerkt.
code-label = Code
confirm-btn = Bevestigen
proof-dead = Die code werkt niet meer. Sla het contactgegeven opnieuw op om een nieuwe te krijgen.
not-enabled = Wachtwoordherstel via selfservice is voor uw account niet ingeschakeld. Neem contact op met de IT-servicedesk.
must-change-note = U moet uw wachtwoord wijzigen voordat u verdergaat.
must-change-link = Mijn wachtwoord nu wijzigen
index-change = Mijn wachtwoord wijzigen
change-title = Wachtwoord wijzigen
change-intro = Typ uw gebruikersnaam, uw huidige wachtwoord (of het tijdelijke dat u hebt gekregen) en een nieuw wachtwoord.
current-password-label = Huidig wachtwoord
change-btn = Wachtwoord wijzigen
changed = Uw wachtwoord is gewijzigd. Gebruik vanaf nu het nieuwe.
change-unsupported = Bij deze directory kunnen wachtwoorden hier niet worden gewijzigd. Gebruik de wachtwoordwijziging van uw eigen computer.
rules-title = Het nieuwe wachtwoord moet
rule-complexity = minstens drie van deze combineren: hoofdletters, kleine letters, cijfers, symbolen; en uw gebruikersnaam niet bevatten
admin-must-change = U moet uw wachtwoord wijzigen voordat u de beheerpagina's kunt gebruiken: meld u aan op uw computer of in het accountportaal om het te wijzigen.
admin-title = Beheer
admin-signin-title = Aanmelden als beheerder
search-label = Gebruikers zoeken (aanmeldnaam of naam)
search-btn = Zoeken
no-results = Geen gebruiker gevonden.
search-too-long = De zoekopdracht is te lang: hoogstens { $max } tekens.
col-login = Aanmeldnaam
col-name = Naam
col-status = Status
col-contacts = Contactgegevens
enabled = ingeschakeld
disabled = niet ingeschakeld
eligible = komt in aanmerking
ineligible = komt niet in aanmerking
privileged = bevoorrecht
account-disabled = account uitgeschakeld
account-locked = account vergrendeld
enable-btn = Selfservice inschakelen
disable-btn = Selfservice uitschakelen
unblock-btn = Deblokkeren
blocked-until = Geblokkeerd tot
last-reset = Laatst hersteld
never = nooit
unknown-user = Deze gebruiker bestaat niet.
audit-title = Auditlogboek (nieuwste eerst)
done = Klaar.
outbox-title = Ontwikkel-outbox
outbox-note = Er wordt niets echt verstuurd: elke e-mail en elke sms komt hier terecht. Schakel deze pagina uit (outbox_page = false) en stel SMTP/sms in voor productie.
outbox-empty = Nog geen berichten.
outbox-preview-title = Voorbeeld van elk bericht in elke taal
outbox-preview-note = Elk bericht dat sspr verstuurt, met voorbeeldwaarden, in elk van zijn zes talen: als e-mail en als de sms die een telefoon krijgt. Datums staan in de tijdzone van het beleid
back = Terug
reconfirm-note = Uw contactgegevens zijn een tijd geleden bevestigd. Kloppen ze nog? Wijzig ze hieronder, of bevestig ze zoals ze zijn.
reconfirm-btn = Ze kloppen nog
report-title = Registratierapport
report-ous = OU's (één DN per regel; leeg: alle)
report-groups = Groepen (één per regel; leeg: alle)
report-stale-days = Contactgegevens verouderd na (dagen; leeg: volgens het beleid)
report-btn = Rapport tonen
remind-btn = Registratieherinneringen versturen
remind-note = Een herinnering gaat naar de directorymailbox van elke getoonde ingeschakelde gebruiker zonder of met verouderde contactgegevens, hoogstens één keer per herinneringsinterval; bevoorrechte gebruikers krijgen nooit een herinnering.
count-users = gebruikers
count-enabled = ingeschakeld
count-registered = geregistreerd
count-without-contacts = zonder contactgegevens
count-stale = verouderde contactgegevens
count-never-used = nooit gebruikt
count-blocked = geblokkeerd
count-privileged = bevoorrecht
count-without-mailbox = zonder mailbox
flag-no-contacts = geen contactgegevens
flag-stale = verouderd
flag-never-used = nooit gebruikt
flag-blocked = geblokkeerd
audit-col-time = Tijd
audit-col-event = Gebeurtenis
audit-col-user = Gebruiker
audit-col-detail = Details
audit-col-ip = IP
audit-col-actor = Actor
audit-col-outcome = Resultaat
reports-title = Rapporten (laatste 30 dagen)
reports-unavailable = Rapporten lezen het auditspoor dat in SQL wordt bewaard: stel [audit] kind = "sqlite" of "postgres" in de configuratie van het portaal in.
figure-begun = herstelpogingen begonnen
figure-decoys = schijnantwoorden
figure-completed = herstelpogingen voltooid
figure-failed = herstelpogingen mislukt
figure-blocked = gebruikers geblokkeerd
figure-registrations = registraties
reports-resets = Herstelpogingen per dag
reports-completed = voltooid
reports-failed = mislukt
reports-registrations = Registraties per dag
reports-blocks = Geblokkeerde gebruikers per dag
reports-decoys = Schijnantwoorden per reden
reports-failures = Meest voorkomende fouten
reports-none = Geen in deze 30 dagen.

## Herstel via de IT-servicedesk

recovery-link = Ik heb een code van de servicedesk
recovery-title = Code van de servicedesk
recovery-intro = Uw servicedesk heeft u een eenmalige herstelcode gegeven (of gestuurd). Voer uw gebruikersnaam en de code in.
recovery-code-label = Herstelcode
recovery-redeem-btn = Doorgaan
recovery-wrong = De code is onjuist of niet meer geldig. Controleer de gebruikersnaam en de code; lukt het nog steeds niet, vraag de servicedesk dan om een nieuwe code.
recovery-admin-title = Herstel via de servicedesk
recovery-admin-intro = Voor een gebruiker die geen herstelcode kan ontvangen: een eenmalige code, 15 minuten geldig, die de gebruiker op de herstelpagina invoert onder „Ik heb een code van de servicedesk”. Controleer eerst de identiteit van de beller. De contactgegevens van de gebruiker krijgen bericht.
recovery-show = De code hier tonen (voorlezen aan de gebruiker)
recovery-by-email = Naar het geregistreerde e-mailadres sturen
recovery-by-sms = Naar het geregistreerde mobiele nummer sturen
recovery-issue-btn = Een herstelcode uitgeven
recovery-code-title = Herstelcode (één keer getoond)
recovery-code-note = Lees hem nu voor aan de gebruiker; hij wordt niet opnieuw getoond. Een nieuwe code vervangt deze.
recovery-sent = Er is een herstelcode gestuurd naar { $masked } (geldig tot { $at }).
recovery-valid-until = Geldig tot { $at }

## Teksten met waarden

pin-sent = Er is een code gestuurd naar { $masked }.
pin-status = Geldig tot { $time }. { $attempts ->
        [one] Nog { $attempts } poging.
       *[other] Nog { $attempts } pogingen.
    }
pin-hint = De { $digits } cijfers uit het bericht
wrong-pin = De code is onjuist. { $attempts ->
        [one] Nog { $attempts } poging.
       *[other] Nog { $attempts } pogingen.
    }
pin-digits = Voer de { $digits } cijfers in die u hebt ontvangen.
rate-limited = Te veel verzoeken. Probeer het over { $minutes ->
        [one] { $minutes } minuut
       *[other] { $minutes } minuten
    } opnieuw.
blocked = Te veel verkeerde codes: herstellen via selfservice is geblokkeerd tot { $at }.
reminders-done = Herinneringen verstuurd: { $sent }. Al herinnerd: { $already }, zonder mailbox: { $without_mail }, bevoorrecht (nooit herinnerd): { $privileged }, kunnen zich niet registreren: { $ineligible }, mislukt: { $failed }.
proof-sent = We hebben een code gestuurd naar { $masked }. Typ hem hier om dit contactgegeven op te slaan.
usable-from = bruikbaar voor codes vanaf { $at }
password-rejected = Het wachtwoord is geweigerd: { $reason }.
rule-min-length = minstens { $n ->
        [one] { $n } teken
       *[other] { $n } tekens
    } lang zijn
rule-history = verschillen van { $n ->
        [one] uw laatste wachtwoord
       *[other] uw laatste { $n } wachtwoorden
    }
rule-min-age = daarna minstens { $unit ->
        [hours] { $n } uur
       *[minutes] { $n ->
            [one] { $n } minuut
           *[other] { $n } minuten
        }
    } behouden worden voordat u het opnieuw kunt wijzigen
refusal = { $rule ->
        [too-short] Het nieuwe wachtwoord is te kort.
        [too-recent] Uw wachtwoord is te kort geleden gewijzigd om het nu alweer te wijzigen.
        [in-history] Dit wachtwoord hebt u al eerder gebruikt: kies een ander.
        [too-simple] Het nieuwe wachtwoord is te eenvoudig.
        [breached] Het nieuwe wachtwoord staat in lijsten van gelekte wachtwoorden.
       *[other] Het nieuwe wachtwoord is geweigerd.
    } ({ $reason })
signed-in-as = Aangemeld als { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Voer uw code in
second-title = Nog een code
modes-title = Code geaccepteerd
done-title = Klaar
add-contact = Toevoegen of wijzigen
contact-value = Adres of nummer
err-too-large = Het verzoek is te groot.
err-not-possible = Dit is hier niet mogelijk. Neem contact op met de IT-servicedesk.
code-sent-by = We hebben een code { $channel ->
        [sms] per sms
       *[email] per e-mail
    } gestuurd.
send-by = Stuur een code { $channel ->
        [sms] per sms
       *[email] per e-mail
    }
err-field = Controleer uw invoer ({ $field }).

# De meldingen van sspr, in het Nederlands (dezelfde sleutels als en.ftl).
# `-sms`-teksten: één sms-segment, alleen GSM-7-tekens (geen ë, ï of typografische
# apostrof).

datetime = { $day } { $month ->
        [1] januari
        [2] februari
        [3] maart
        [4] april
        [5] mei
        [6] juni
        [7] juli
        [8] augustus
        [9] september
        [10] oktober
        [11] november
       *[12] december
    } { $year } om { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } minuut
       *[other] { $minutes } minuten
    }

pin-reset-subject = Uw code om uw wachtwoord opnieuw in te stellen
pin-reset-body = Uw code is { $pin }. Deze is { duration-minutes } geldig. Deel deze code met niemand; wij vragen er nooit om. Hebt u niets aangevraagd, negeer dan dit bericht.
pin-reset-sms = Uw code is { $pin }. Deze is { duration-minutes } geldig. Deel deze code met niemand; wij vragen er nooit om. Niets aangevraagd? Negeer dit bericht.

pin-proof-subject = Uw code om uw contactgegevens te bevestigen
pin-proof-body = Uw code is { $pin }. Deze is { duration-minutes } geldig. Voer hem in op de pagina waar u dit adres toevoegt om uw wachtwoord opnieuw in te stellen. Deel deze code met niemand. Hebt u niets aangevraagd, negeer dan dit bericht.
pin-proof-sms = Uw code om dit nummer te bevestigen is { $pin }. Deze is { duration-minutes } geldig. Deel deze code met niemand. Niets aangevraagd? Negeer dit bericht.

pin-helpdesk-subject = Uw herstelcode van de helpdesk
pin-helpdesk-body = Uw helpdesk heeft u deze code gestuurd: { $pin }. Deze is { duration-minutes } geldig. Voer hem in op de pagina om uw wachtwoord opnieuw in te stellen, onder ‘Ik heb een code van de helpdesk’. Deel deze code met niemand. Hebt u de helpdesk niet gebeld, meld het hun dan meteen.
pin-helpdesk-sms = Uw helpdesk heeft u deze code gestuurd: { $pin }. Deze is { duration-minutes } geldig. Deel hem met niemand. Helpdesk niet gebeld? Meld het hun meteen.

reset-requested-subject = Herstel van uw wachtwoord aangevraagd
reset-requested-body = Op { $at } is gevraagd uw wachtwoord opnieuw in te stellen en is een code naar { $masked } gestuurd. Was u dit niet, neem dan contact op met uw IT-helpdesk.
reset-requested-sms = Er is gevraagd uw wachtwoord opnieuw in te stellen en er is een code { $channel ->
        [sms] per sms
       *[email] per e-mail
    } gestuurd. Was u dit niet? Neem contact op met uw IT-helpdesk.

password-reset-subject = { $unlock ->
        [yes] Uw account is ontgrendeld
       *[no] Uw wachtwoord is opnieuw ingesteld
    }
password-reset-body = Op { $at } is { $unlock ->
        [yes] uw account via selfservice ontgrendeld
       *[no] uw wachtwoord via selfservice opnieuw ingesteld
    }. Was u dit niet, neem dan direct contact op met uw IT-helpdesk.
password-reset-sms = { $unlock ->
        [yes] Uw account is via selfservice ontgrendeld
       *[no] Uw wachtwoord is via selfservice opnieuw ingesteld
    }. Was u dit niet? Neem direct contact op met uw IT-helpdesk.

contacts-changed-subject = Uw contactgegevens zijn gewijzigd
contacts-changed-body = Op { $at } zijn de contactgegevens om uw wachtwoord opnieuw in te stellen gewijzigd{ $by ->
        [admin] { " " }door een beheerder
       *[user] { "" }
    }. Was u dit niet, neem dan contact op met uw IT-helpdesk.
contacts-changed-sms = De contactgegevens om uw wachtwoord opnieuw in te stellen zijn gewijzigd{ $by ->
        [admin] { " " }door een beheerder
       *[user] { "" }
    }. Was u dit niet? Neem contact op met uw IT-helpdesk.

password-changed-subject = Uw wachtwoord is gewijzigd
password-changed-body = Op { $at } is uw wachtwoord gewijzigd met het huidige wachtwoord. Was u dit niet, neem dan direct contact op met uw IT-helpdesk.
password-changed-sms = Uw wachtwoord is gewijzigd met het huidige wachtwoord. Was u dit niet? Neem direct contact op met uw IT-helpdesk.

registration-reminder-subject = { $confirm ->
        [yes] Bevestig uw contactgegevens om uw wachtwoord opnieuw in te stellen
       *[no] Registreer contactgegevens om uw wachtwoord opnieuw in te stellen
    }
registration-reminder-body = { $confirm ->
        [yes] Uw contactgegevens om uw wachtwoord opnieuw in te stellen zijn lang niet bevestigd. Meld u aan op { $url } en bevestig of wijzig ze.
       *[no] Uw account heeft nog geen contactgegevens waarmee u een vergeten wachtwoord zelf opnieuw kunt instellen. Meld u aan op { $url } en voeg een persoonlijk e-mailadres of mobiel nummer toe.
    } Wij vragen nooit per e-mail naar uw wachtwoord.

helpdesk-recovery-subject = Herstel van uw account via de helpdesk
helpdesk-recovery-body = Op { $at } { $redeemed ->
        [yes] is een herstelcode van de helpdesk voor uw account gebruikt.
       *[no] heeft de helpdesk een herstelcode voor uw account uitgegeven.
    } Was u dit niet, neem dan direct contact op met uw IT-helpdesk.
helpdesk-recovery-sms = { $redeemed ->
        [yes] Er is een herstelcode van de helpdesk voor uw account gebruikt.
       *[no] De helpdesk heeft een herstelcode voor uw account uitgegeven.
    } Was u dit niet? Neem direct contact op met uw IT-helpdesk.

admin-alert-subject = Beveiligingsmelding van de wachtwoord-selfservice
admin-alert-failure-alarm = Op { $at } bereikten de mislukte pincodecontroles over alle gebruikers de alarmdrempel (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }vanaf { $ip }
    }: mogelijk probeert iemand de pincodes van veel accounts te raden.
admin-alert-privileged = Op { $at } is voor het bevoorrechte account { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }vanaf { $ip }
    } een herstel van het wachtwoord of van het account via selfservice geprobeerd en geweigerd (de aanvrager kreeg niets te zien dat dit verraadt).
admin-alert-unknown-account = (onbekend)
admin-alert-footer = Was dit niet verwacht, controleer dan het auditlogboek. Verdere meldingen van deze soort worden { duration-minutes } tegengehouden.

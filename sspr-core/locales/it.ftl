# Gli avvisi di sspr, in italiano (le stesse chiavi di en.ftl).
# Testi `-sms`: un solo segmento, solo caratteri GSM-7 (niente È maiuscola, niente
# apostrofo tipografico).

datetime = { $day } { $month ->
        [1] gennaio
        [2] febbraio
        [3] marzo
        [4] aprile
        [5] maggio
        [6] giugno
        [7] luglio
        [8] agosto
        [9] settembre
        [10] ottobre
        [11] novembre
       *[12] dicembre
    } { $year } alle ore { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minuti
    }

pin-reset-subject = Il Suo codice per reimpostare la password
pin-reset-body = Il Suo codice è { $pin }. È valido per { duration-minutes }. Non lo comunichi a nessuno: non glielo chiederemo mai. Se non lo ha richiesto, ignori questo messaggio.
pin-reset-sms = Il Suo codice è { $pin }. Valido per { duration-minutes }. Non lo comunichi a nessuno: non glielo chiederemo mai. Se non lo ha richiesto, ignori il messaggio.

pin-proof-subject = Il Suo codice per confermare i Suoi recapiti
pin-proof-body = Il Suo codice è { $pin }. È valido per { duration-minutes }. Lo inserisca nella pagina in cui sta aggiungendo questo indirizzo per reimpostare la password. Non lo comunichi a nessuno. Se non lo ha richiesto, ignori questo messaggio.
pin-proof-sms = Il Suo codice per confermare questo numero è { $pin }. Valido per { duration-minutes }. Non lo comunichi a nessuno. Se non lo ha richiesto, ignori il messaggio.

pin-helpdesk-subject = Il Suo codice di recupero dal supporto IT
pin-helpdesk-body = Il Suo supporto IT Le ha inviato questo codice: { $pin }. È valido per { duration-minutes }. Lo inserisca nella pagina di reimpostazione della password, alla voce «Ho un codice dal supporto IT». Non lo comunichi a nessuno. Se non ha chiamato il supporto IT, lo avvisi subito.
pin-helpdesk-sms = Il supporto IT Le ha inviato questo codice: { $pin }. Valido per { duration-minutes }. Non lo comunichi a nessuno. Se non lo ha chiamato, lo avvisi subito.

reset-requested-subject = Richiesta di reimpostazione della password
reset-requested-body = Il { $at } è stata richiesta la reimpostazione della Sua password ed è stato inviato un codice a { $masked }. Se non è stato Lei, contatti il supporto IT.
reset-requested-sms = Qualcuno ha chiesto di reimpostare la Sua password e un codice è stato inviato { $channel ->
        [sms] via SMS
       *[email] via e-mail
    }. Se non è stato Lei, contatti il supporto IT.

password-reset-subject = { $unlock ->
        [yes] Il Suo account è stato sbloccato
       *[no] La Sua password è stata reimpostata
    }
password-reset-body = Il { $at } { $unlock ->
        [yes] il Suo account è stato sbloccato
       *[no] la Sua password è stata reimpostata
    } tramite self-service. Se non è stato Lei, contatti subito il supporto IT.
password-reset-sms = { $unlock ->
        [yes] Il Suo account è stato sbloccato
       *[no] La Sua password è stata reimpostata
    } tramite self-service. Se non è stato Lei, contatti subito il supporto IT.

contacts-changed-subject = I Suoi recapiti sono stati modificati
contacts-changed-body = Il { $at } i recapiti per reimpostare la Sua password sono stati modificati{ $by ->
        [admin] { " " }da un amministratore
       *[user] { "" }
    }. Se non è stato Lei, contatti il supporto IT.
contacts-changed-sms = I recapiti per reimpostare la Sua password sono stati modificati{ $by ->
        [admin] { " " }da un amministratore
       *[user] { "" }
    }. Se non è stato Lei, contatti il supporto IT.

password-changed-subject = La Sua password è stata modificata
password-changed-body = Il { $at } la Sua password è stata modificata con la password attuale. Se non è stato Lei, contatti subito il supporto IT.
password-changed-sms = La Sua password è stata modificata con la password attuale. Se non è stato Lei, contatti subito il supporto IT.

registration-reminder-subject = { $confirm ->
        [yes] Confermi i Suoi recapiti per reimpostare la password
       *[no] Registri i Suoi recapiti per reimpostare la password
    }
registration-reminder-body = { $confirm ->
        [yes] I Suoi recapiti per reimpostare la password non vengono confermati da molto tempo. Acceda a { $url } e li confermi o li modifichi.
       *[no] Il Suo account non ha ancora recapiti per reimpostare da sé una password dimenticata. Acceda a { $url } e aggiunga un indirizzo e-mail personale o un numero di cellulare.
    } Non Le chiederemo mai la password via e-mail.

helpdesk-recovery-subject = Recupero del Suo account tramite il supporto IT
helpdesk-recovery-body = Il { $at } { $redeemed ->
        [yes] è stato usato un codice di recupero del supporto IT per il Suo account.
       *[no] il supporto IT ha emesso un codice di recupero per il Suo account.
    } Se non è stato Lei, contatti subito il supporto IT.
helpdesk-recovery-sms = { $redeemed ->
        [yes] Un codice di recupero del supporto IT è stato usato per il Suo account.
       *[no] Il supporto IT ha emesso un codice di recupero per il Suo account.
    } Se non è stato Lei, contatti subito il supporto IT.

admin-alert-subject = Avviso di sicurezza dal self-service delle password
admin-alert-failure-alarm = Il { $at } le verifiche del PIN non riuscite su tutti gli utenti hanno raggiunto la soglia di allarme (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }da { $ip }
    }: qualcuno potrebbe tentare di indovinare i PIN di molti account.
admin-alert-privileged = Il { $at } è stata tentata e rifiutata una reimpostazione o un recupero della password in self-service per l’account privilegiato { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }da { $ip }
    } (a chi l’ha tentato non è stato detto nulla che lo riveli).
admin-alert-unknown-account = (sconosciuto)
admin-alert-footer = Se non era previsto, controlli il registro di audit. Altri avvisi di questo tipo vengono trattenuti per { duration-minutes }.

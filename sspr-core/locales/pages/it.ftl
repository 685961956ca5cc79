# I testi delle pagine web, in italiano (stesse chiavi e stesse variabili di en.ftl).
# Le date ($at) cominciano con il giorno: niente articolo davanti («al 1», «all’8»),
# ma una forma che va bene per ogni giorno («Scadenza: …»).

## Testi fissi

brand = Password in self-service
index-intro = Ha dimenticato la password? La reimposti da sé con un codice monouso inviato al suo indirizzo e-mail alternativo o al suo cellulare.
index-reset = Reimposta la mia password
index-register = Registra la mia e-mail alternativa e il mio cellulare
index-admin = Amministrazione
index-outbox = Posta in uscita di sviluppo (codici «inviati» per e-mail e SMS)
reset-title = Reimposti la password
reset-intro = Inserisca il suo nome utente. Invieremo un codice monouso a uno dei contatti che ha registrato.
login-label = Nome utente (ad es. jane.doe@example.org)
continue-btn = Continua
methods-intro = Dove dobbiamo inviare il suo codice monouso?
via-email = E-mail a
via-sms = SMS al
confirm-label = Per conferma, digiti l’indirizzo o il numero completo
send-btn = Invia il codice
start-over = Ricomincia
pin-label = Codice monouso
verify-btn = Verifica
new-code = Invia un nuovo codice
modes-intro = Codice confermato. Come desidera proseguire?
mode-temporary = Voglio una password temporanea
mode-unlock = Sblocca soltanto il mio account
mode-chosen = Scelgo io una nuova password
new-password-label = Nuova password
new-password-again-label = Ripeta la nuova password
passwords-differ = Le due password non coincidono.
temp-title = La sua password temporanea
temp-note = La annoti ora: viene mostrata una sola volta e non viene mai inviata. Dovrà cambiarla al prossimo accesso.
unlocked-done = Il suo account è sbloccato. Acceda con la sua password attuale.
chosen-done = La sua password è stata cambiata. Acceda con la nuova password.
second-method = Il suo account richiede anche un codice tramite un secondo metodo.
err-login = Inserisca un nome utente valido.
err-method = Scelga dove inviare il codice.
err-confirm = Digiti l’indirizzo o il numero completo, esattamente come registrato.
err-expired = Questa reimpostazione è scaduta. Ricominci da capo.
err-used = Questa reimpostazione è già stata usata. Ricominci da capo.
err-voided = Troppi codici errati: questo codice non è più valido. Ricominci da capo.
err-state = Questo passaggio ora non è possibile. Ricominci da capo.
err-unavailable = Il servizio al momento non è disponibile. Riprovi più tardi.
err-challenge-required = Completi prima la verifica di non essere un robot, poi prosegua.
err-challenge-failed = La verifica di non essere un robot non è riuscita. Riprovi.
err-challenge-unavailable = Al momento non è possibile controllare la verifica di non essere un robot. Riprovi più tardi.
err-not-allowed = Per questo account la reimpostazione self-service non è possibile. Si rivolga all’assistenza informatica.
err-session = La sessione è scaduta o il modulo non è più aggiornato. Ricarichi la pagina e riprovi.
err-input = Il dato inserito non è stato accettato.
signin-title = Accesso
password-label = Password
signin-btn = Accedi
oidc-signin-btn = Accedi con l’account della sua organizzazione
oidc-continue = Prosegui con l’accesso
signout-btn = Esci
signin-failed = Il nome utente o la password non sono corretti.
register-title = I suoi contatti per la reimpostazione della password
register-intro = Quando reimposta la password, un codice monouso viene inviato a uno di questi contatti. Usi un indirizzo e un numero che non dipendano dal suo account di lavoro.
email-label = Indirizzo e-mail alternativo
phone-label = Cellulare (formato internazionale, ad es. +39 312 345 6789)
save-btn = Salva
saved = Salvato. I suoi contatti sono stati aggiornati.
code-label = Codice
confirm-btn = Conferma
proof-dead = Quel codice non è più valido. Salvi di nuovo il contatto per riceverne uno nuovo.
not-enabled = La reimpostazione self-service della password non è attivata per il suo account. Si rivolga all’assistenza informatica.
must-change-note = Deve cambiare la password prima di proseguire.
must-change-link = Cambia la password ora
index-change = Cambia la mia password
change-title = Cambio password
change-intro = Digiti il suo nome utente, la password attuale (o quella temporanea ricevuta) e una nuova password.
current-password-label = Password attuale
change-btn = Cambia la password
changed = La sua password è stata cambiata. D’ora in poi usi quella nuova.
change-unsupported = Con questa directory le password non si possono cambiare qui. Usi la funzione di cambio password del suo computer.
rules-title = La nuova password deve
rule-complexity = combinare almeno tre tra: lettere maiuscole, lettere minuscole, cifre, simboli; e non contenere il suo nome utente
admin-must-change = Deve cambiare la password prima di poter usare le pagine di amministrazione: acceda al suo computer o al portale dell’account per cambiarla.
admin-title = Amministrazione
admin-signin-title = Accesso amministratori
search-label = Cerca utenti (nome utente o nome)
search-btn = Cerca
no-results = Nessun utente trovato.
search-too-long = La ricerca è troppo lunga: al massimo { $max } caratteri.
col-login = Nome utente
col-name = Nome
col-status = Stato
col-contacts = Contatti
enabled = attivato
disabled = non attivato
eligible = idoneo
ineligible = non idoneo
privileged = privilegiato
account-disabled = account disattivato
account-locked = account bloccato
enable-btn = Attiva il self-service
disable-btn = Disattiva il self-service
unblock-btn = Sblocca
blocked-until = Bloccato fino a:
last-reset = Ultima reimpostazione
never = mai
unknown-user = Questo utente non esiste.
audit-title = Registro di audit (dal più recente)
done = Fatto.
outbox-title = Posta in uscita di sviluppo
outbox-note = Non viene inviato nulla davvero: ogni e-mail e ogni SMS arrivano qui. Disattivi questa pagina (outbox_page = false) e configuri SMTP/SMS per la produzione.
outbox-empty = Ancora nessun messaggio.
outbox-preview-title = Anteprima di ogni avviso in ogni lingua
outbox-preview-note = Ogni avviso inviato da sspr, con valori di esempio, in ciascuna delle sue sei lingue: come e-mail e come l’SMS che riceve un telefono. Le date sono nel fuso orario della policy
back = Indietro
reconfirm-note = I suoi contatti sono stati confermati tempo fa. Sono ancora corretti? Li modifichi qui sotto oppure li confermi così come sono.
reconfirm-btn = Sono ancora corretti
report-title = Rapporto sulle registrazioni
report-ous = OU (un DN per riga; vuoto: tutte)
report-groups = Gruppi (uno per riga; vuoto: tutti)
report-stale-days = Contatti obsoleti dopo (giorni; vuoto: quelli della policy)
report-btn = Mostra il rapporto
remind-btn = Invia promemoria di registrazione
remind-note = Un promemoria va alla casella della directory di ogni utente attivato mostrato senza contatti o con contatti obsoleti, al massimo una volta per intervallo di promemoria; gli utenti privilegiati non ricevono mai promemoria.
count-users = utenti
count-enabled = attivati
count-registered = registrati
count-without-contacts = senza contatti
count-stale = contatti obsoleti
count-never-used = mai usato
count-blocked = bloccati
count-privileged = privilegiati
count-without-mailbox = senza casella
flag-no-contacts = nessun contatto
flag-stale = obsoleto
flag-never-used = mai usato
flag-blocked = bloccato
audit-col-time = Ora
audit-col-event = Evento
audit-col-user = Utente
audit-col-detail = Dettaglio
audit-col-ip = IP
audit-col-actor = Attore
audit-col-outcome = Esito
reports-title = Rapporti (ultimi 30 giorni)
reports-unavailable = I rapporti leggono il registro di audit conservato in SQL: imposti [audit] kind = "sqlite" o "postgres" nella configurazione del portale.
figure-begun = reimpostazioni avviate
figure-decoys = risposte esca
figure-completed = reimpostazioni completate
figure-failed = reimpostazioni non riuscite
figure-blocked = utenti bloccati
figure-registrations = registrazioni
reports-resets = Reimpostazioni al giorno
reports-completed = completate
reports-failed = non riuscite
reports-registrations = Registrazioni al giorno
reports-blocks = Utenti bloccati al giorno
reports-decoys = Risposte esca per motivo
reports-failures = Errori più frequenti
reports-none = Nessuno in questi 30 giorni.

## Recupero tramite l’assistenza informatica

recovery-link = Ho un codice dall’assistenza informatica
recovery-title = Codice dall’assistenza informatica
recovery-intro = L’assistenza informatica le ha dato (o inviato) un codice di recupero monouso. Inserisca il suo nome utente e il codice.
recovery-code-label = Codice di recupero
recovery-redeem-btn = Continua
recovery-wrong = Il codice è errato o non è più valido. Controlli il nome utente e il codice; se non funziona ancora, chieda un nuovo codice all’assistenza informatica.
recovery-admin-title = Recupero tramite l’assistenza informatica
recovery-admin-intro = Per un utente che non può ricevere un codice di reimpostazione: un codice monouso, valido 15 minuti, che l’utente inserisce in «Ho un codice dall’assistenza informatica» nella pagina di reimpostazione. Verifichi prima l’identità di chi chiama. I contatti dell’utente vengono avvisati.
recovery-show = Mostra il codice qui (da leggere all’utente)
recovery-by-email = Invialo all’e-mail registrata
recovery-by-sms = Invialo al cellulare registrato
recovery-issue-btn = Emetti un codice di recupero
recovery-code-title = Codice di recupero (mostrato una sola volta)
recovery-code-note = Lo legga ora all’utente: non verrà mostrato di nuovo. Un nuovo codice sostituisce questo.
recovery-sent = Un codice di recupero è stato inviato a { $masked } (scadenza: { $at }).
recovery-valid-until = Scadenza: { $at }

## Testi con valori

pin-sent = È stato inviato un codice a { $masked }.
pin-status = Valido fino alle { $time }. { $attempts ->
        [one] Resta { $attempts } tentativo.
       *[other] Restano { $attempts } tentativi.
    }
pin-hint = Le { $digits } cifre del messaggio
wrong-pin = Il codice è errato. { $attempts ->
        [one] Resta { $attempts } tentativo.
       *[other] Restano { $attempts } tentativi.
    }
pin-digits = Inserisca le { $digits } cifre che ha ricevuto.
rate-limited = Troppe richieste. Riprovi tra { $minutes ->
        [one] { $minutes } minuto.
       *[other] { $minutes } minuti.
    }
blocked = Troppi codici errati: la reimpostazione self-service è bloccata. Sblocco: { $at }.
reminders-done = Promemoria inviati: { $sent }. Già ricordati: { $already }, senza casella: { $without_mail }, privilegiati (mai ricordati): { $privileged }, non possono registrarsi: { $ineligible }, non riusciti: { $failed }.
proof-sent = Abbiamo inviato un codice a { $masked }. Lo digiti qui per salvare questo contatto.
usable-from = utilizzabile per i codici a partire da: { $at }
password-rejected = La password è stata rifiutata: { $reason }.
rule-min-length = essere lunga almeno { $n ->
        [one] { $n } carattere
       *[other] { $n } caratteri
    }
rule-history = essere diversa { $n ->
        [one] dalla sua ultima password
       *[other] dalle sue ultime { $n } password
    }
rule-min-age = poi essere mantenuta almeno { $unit ->
        [hours] { $n ->
            [one] { $n } ora
           *[other] { $n } ore
        }
       *[minutes] { $n ->
            [one] { $n } minuto
           *[other] { $n } minuti
        }
    } prima di poterla cambiare di nuovo
refusal = { $rule ->
        [too-short] La nuova password è troppo corta.
        [too-recent] La sua password è stata cambiata troppo di recente per poterla già cambiare di nuovo.
        [in-history] Ha già usato questa password: ne scelga un’altra.
        [too-simple] La nuova password è troppo semplice.
        [breached] La nuova password compare in elenchi di password trafugate.
       *[other] La nuova password è stata rifiutata.
    } ({ $reason })
signed-in-as = Accesso eseguito come { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Inserisca il codice
second-title = Un altro codice
modes-title = Codice accettato
done-title = Fatto
add-contact = Aggiungi o modifica
contact-value = Indirizzo o numero
err-too-large = La richiesta è troppo grande.
err-not-possible = Qui non è possibile. Si rivolga all’assistenza informatica.
code-sent-by = Abbiamo inviato un codice { $channel ->
        [sms] via SMS
       *[email] via e-mail
    }.
send-by = Invia un codice { $channel ->
        [sms] via SMS
       *[email] via e-mail
    }
err-field = Controlli i dati inseriti ({ $field }).

# Les textes des pages web, en français (mêmes clés et mêmes variables que en.ftl).

## Textes fixes

brand = Mot de passe en libre-service
index-intro = Mot de passe oublié ? Réinitialisez-le vous-même avec un code à usage unique envoyé à votre adresse e-mail de secours ou à votre téléphone mobile.
index-reset = Réinitialiser mon mot de passe
index-register = Enregistrer mon e-mail de secours et mon mobile
index-admin = Administration
index-outbox = Boîte d’envoi de développement (codes « envoyés » par e-mail et SMS)
reset-title = Réinitialiser votre mot de passe
reset-intro = Saisissez votre nom d’utilisateur. Nous enverrons un code à usage unique à l’une de vos coordonnées enregistrées.
login-label = Nom d’utilisateur (p. ex. jane.doe@example.org)
continue-btn = Continuer
methods-intro = Où devons-nous envoyer votre code à usage unique ?
via-email = E-mail à
via-sms = SMS au
confirm-label = Pour confirmer, saisissez l’adresse ou le numéro complet
send-btn = Envoyer le code
start-over = Recommencer
pin-label = Code à usage unique
verify-btn = Vérifier
new-code = Envoyer un nouveau code
modes-intro = Code confirmé. Comment souhaitez-vous continuer ?
mode-temporary = Me donner un mot de passe temporaire
mode-unlock = Seulement déverrouiller mon compte
mode-chosen = Choisir mon propre mot de passe
new-password-label = Nouveau mot de passe
new-password-again-label = Confirmer le nouveau mot de passe
passwords-differ = Les deux mots de passe sont différents.
temp-title = Votre mot de passe temporaire
temp-note = Notez-le maintenant : il n’est affiché qu’une seule fois et n’est jamais envoyé. Vous devrez le changer à votre prochaine connexion.
unlocked-done = Votre compte est déverrouillé. Connectez-vous avec votre mot de passe actuel.
chosen-done = Votre mot de passe a été changé. Connectez-vous avec votre nouveau mot de passe.
second-method = Votre compte exige aussi un code reçu par une deuxième méthode.
err-login = Saisissez un nom d’utilisateur valide.
err-method = Choisissez où envoyer le code.
err-confirm = Saisissez l’adresse ou le numéro complet, exactement tel qu’enregistré.
err-expired = Cette réinitialisation a expiré. Veuillez recommencer.
err-used = Cette réinitialisation a déjà été utilisée. Veuillez recommencer.
err-voided = Trop de codes erronés : ce code n’est plus valable. Veuillez recommencer.
err-state = Cette étape n’est pas possible maintenant. Veuillez recommencer.
err-unavailable = Le service est indisponible pour le moment. Veuillez réessayer plus tard.
err-challenge-required = Veuillez d’abord confirmer que vous n’êtes pas un robot, puis continuez.
err-challenge-failed = La vérification que vous n’êtes pas un robot a échoué. Veuillez réessayer.
err-challenge-unavailable = La vérification que vous n’êtes pas un robot est impossible pour le moment. Veuillez réessayer plus tard.
err-not-allowed = La réinitialisation en libre-service n’est pas possible pour ce compte. Veuillez contacter le support informatique.
err-session = Votre session a expiré ou le formulaire n’est plus à jour. Veuillez recharger la page et réessayer.
err-input = La saisie n’a pas été acceptée.
signin-title = Connexion
password-label = Mot de passe
signin-btn = Se connecter
oidc-signin-btn = Se connecter avec le compte de votre organisation
oidc-continue = Poursuivre la connexion
signout-btn = Se déconnecter
signin-failed = Le nom d’utilisateur ou le mot de passe est incorrect.
register-title = Vos coordonnées pour la réinitialisation du mot de passe
register-intro = Lorsque vous réinitialisez votre mot de passe, un code à usage unique est envoyé à l’une de ces coordonnées. Utilisez une adresse et un numéro qui ne dépendent pas de votre compte professionnel.
email-label = Adresse e-mail de secours
phone-label = Téléphone mobile (format international, p. ex. +33 6 12 34 56 78)
save-btn = Enregistrer
saved = Enregistré. Vos coordonnées ont été mises à jour.
code-label = Code
confirm-btn = Confirmer
proof-dead = Ce code n’est plus valable. Enregistrez à nouveau la coordonnée pour en recevoir un nouveau.
not-enabled = La réinitialisation du mot de passe en libre-service n’est pas activée pour votre compte. Veuillez contacter le support informatique.
must-change-note = Vous devez changer votre mot de passe avant de continuer.
must-change-link = Changer mon mot de passe maintenant
index-change = Changer mon mot de passe
change-title = Changer le mot de passe
change-intro = Saisissez votre nom d’utilisateur, votre mot de passe actuel (ou le mot de passe temporaire reçu) et un nouveau mot de passe.
current-password-label = Mot de passe actuel
change-btn = Changer le mot de passe
changed = Votre mot de passe a été changé. Utilisez désormais le nouveau.
change-unsupported = Pour cet annuaire, les mots de passe ne peuvent pas être changés ici. Veuillez utiliser la fonction de changement de mot de passe de votre ordinateur.
rules-title = Le nouveau mot de passe doit
rule-complexity = combiner au moins trois des éléments suivants : majuscules, minuscules, chiffres, symboles ; et ne pas contenir votre nom d’utilisateur
admin-must-change = Vous devez changer votre mot de passe avant de pouvoir utiliser les pages d’administration : connectez-vous à votre ordinateur ou au portail de votre compte pour le changer.
admin-title = Administration
admin-signin-title = Connexion administrateur
search-label = Rechercher des utilisateurs (identifiant ou nom)
search-btn = Rechercher
no-results = Aucun utilisateur trouvé.
search-too-long = La recherche est trop longue : { $max } caractères au plus.
col-login = Identifiant
col-name = Nom
col-status = État
col-contacts = Coordonnées
enabled = activé
disabled = non activé
eligible = admissible
ineligible = non admissible
privileged = privilégié
account-disabled = compte désactivé
account-locked = compte verrouillé
enable-btn = Activer le libre-service
disable-btn = Désactiver le libre-service
unblock-btn = Débloquer
blocked-until = Bloqué jusqu’au
last-reset = Dernière réinitialisation
never = jamais
unknown-user = Cet utilisateur n’existe pas.
audit-title = Journal d’audit (le plus récent d’abord)
done = Terminé.
outbox-title = Boîte d’envoi de développement
outbox-note = Rien n’est réellement envoyé : chaque e-mail et chaque SMS arrive ici. Désactivez cette page (outbox_page = false) et configurez SMTP/SMS pour la production.
outbox-empty = Aucun message pour l’instant.
outbox-preview-title = Aperçu de chaque notification dans chaque langue
outbox-preview-note = Chaque notification envoyée par sspr, avec des valeurs d’exemple, dans chacune de ses six langues : en e-mail, et en SMS tel que le reçoit un téléphone. Les dates sont dans le fuseau horaire de la politique
back = Retour
reconfirm-note = Vos coordonnées ont été confirmées il y a un certain temps. Sont-elles toujours exactes ? Modifiez-les ci-dessous ou confirmez-les telles quelles.
reconfirm-btn = Elles sont toujours exactes
report-title = Rapport d’enregistrement
report-ous = UO (un DN par ligne ; vide : toutes)
report-groups = Groupes (un par ligne ; vide : tous)
report-stale-days = Coordonnées périmées après (jours ; vide : selon la politique)
report-btn = Afficher le rapport
remind-btn = Envoyer des rappels d’enregistrement
remind-note = Un rappel est envoyé à la boîte aux lettres de l’annuaire de chaque utilisateur activé affiché sans coordonnées ou avec des coordonnées périmées, au plus une fois par intervalle de rappel ; les utilisateurs privilégiés ne reçoivent jamais de rappel.
count-users = utilisateurs
count-enabled = activés
count-registered = enregistrés
count-without-contacts = sans coordonnées
count-stale = coordonnées périmées
count-never-used = jamais utilisé
count-blocked = bloqués
count-privileged = privilégiés
count-without-mailbox = sans boîte aux lettres
flag-no-contacts = aucune coordonnée
flag-stale = périmé
flag-never-used = jamais utilisé
flag-blocked = bloqué
audit-col-time = Heure
audit-col-event = Événement
audit-col-user = Utilisateur
audit-col-detail = Détail
audit-col-ip = IP
audit-col-actor = Acteur
audit-col-outcome = Résultat
reports-title = Rapports (30 derniers jours)
reports-unavailable = Les rapports lisent la piste d’audit conservée en SQL : définissez [audit] kind = "sqlite" ou "postgres" dans la configuration du portail.
figure-begun = réinitialisations commencées
figure-decoys = réponses leurres
figure-completed = réinitialisations terminées
figure-failed = réinitialisations échouées
figure-blocked = utilisateurs bloqués
figure-registrations = enregistrements
reports-resets = Réinitialisations par jour
reports-completed = terminées
reports-failed = échouées
reports-registrations = Enregistrements par jour
reports-blocks = Utilisateurs bloqués par jour
reports-decoys = Réponses leurres par motif
reports-failures = Échecs les plus fréquents
reports-none = Aucun au cours de ces 30 jours.

## Récupération par le support informatique

recovery-link = J’ai un code du support informatique
recovery-title = Code du support informatique
recovery-intro = Votre support informatique vous a donné (ou envoyé) un code de récupération à usage unique. Saisissez votre nom d’utilisateur et le code.
recovery-code-label = Code de récupération
recovery-redeem-btn = Continuer
recovery-wrong = Le code est incorrect ou n’est plus valable. Vérifiez le nom d’utilisateur et le code ; si cela échoue encore, demandez un nouveau code au support informatique.
recovery-admin-title = Récupération par le support informatique
recovery-admin-intro = Pour un utilisateur qui ne peut pas recevoir de code de réinitialisation : un code à usage unique, valable 15 minutes, que l’utilisateur saisit sous « J’ai un code du support informatique » sur la page de réinitialisation. Vérifiez d’abord l’identité de l’appelant. Les coordonnées de l’utilisateur en sont informées.
recovery-show = Afficher le code ici (le lire à l’utilisateur)
recovery-by-email = L’envoyer à l’e-mail enregistré
recovery-by-sms = L’envoyer au mobile enregistré
recovery-issue-btn = Émettre un code de récupération
recovery-code-title = Code de récupération (affiché une seule fois)
recovery-code-note = Lisez-le à l’utilisateur maintenant ; il ne sera plus affiché. Un nouveau code remplace celui-ci.
recovery-sent = Un code de récupération a été envoyé à { $masked } (valable jusqu’au { $at }).
recovery-valid-until = Valable jusqu’au { $at }

## Textes avec des valeurs

pin-sent = Un code a été envoyé à { $masked }.
pin-status = Valable jusqu’à { $time }. { $attempts ->
        [one] { $attempts } tentative restante.
       *[other] { $attempts } tentatives restantes.
    }
pin-hint = Les { $digits } chiffres du message
wrong-pin = Le code est incorrect. { $attempts ->
        [one] { $attempts } tentative restante.
       *[other] { $attempts } tentatives restantes.
    }
pin-digits = Saisissez les { $digits } chiffres que vous avez reçus.
rate-limited = Trop de demandes. Veuillez réessayer dans { $minutes ->
        [one] { $minutes } minute.
       *[other] { $minutes } minutes.
    }
blocked = Trop de codes erronés : la réinitialisation en libre-service est bloquée jusqu’au { $at }.
reminders-done = Rappels envoyés : { $sent }. Déjà rappelés : { $already }, sans boîte aux lettres : { $without_mail }, privilégiés (jamais rappelés) : { $privileged }, ne peuvent pas s’enregistrer : { $ineligible }, échecs : { $failed }.
proof-sent = Nous avons envoyé un code à { $masked }. Saisissez-le ici pour enregistrer cette coordonnée.
usable-from = utilisable pour les codes à partir du { $at }
password-rejected = Le mot de passe a été refusé : { $reason }.
rule-min-length = comporter au moins { $n ->
        [one] { $n } caractère
       *[other] { $n } caractères
    }
rule-history = être différent { $n ->
        [one] de votre dernier mot de passe
       *[other] de vos { $n } derniers mots de passe
    }
rule-min-age = être ensuite conservé au moins { $unit ->
        [hours] { $n ->
            [one] { $n } heure
           *[other] { $n } heures
        }
       *[minutes] { $n ->
            [one] { $n } minute
           *[other] { $n } minutes
        }
    } avant de pouvoir être changé à nouveau
refusal = { $rule ->
        [too-short] Le nouveau mot de passe est trop court.
        [too-recent] Votre mot de passe a été changé trop récemment pour être déjà changé à nouveau.
        [in-history] Vous avez déjà utilisé ce mot de passe : choisissez-en un autre.
        [too-simple] Le nouveau mot de passe est trop simple.
        [breached] Le nouveau mot de passe figure dans des listes de mots de passe divulgués.
       *[other] Le nouveau mot de passe a été refusé.
    } ({ $reason })
signed-in-as = Connecté en tant que { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Saisissez votre code
second-title = Un code de plus
modes-title = Code accepté
done-title = Terminé
add-contact = Ajouter ou modifier
contact-value = Adresse ou numéro
err-too-large = La requête est trop volumineuse.
err-not-possible = Ce n’est pas possible ici. Veuillez contacter le support informatique.
code-sent-by = Nous avons envoyé un code { $channel ->
        [sms] par SMS
       *[email] par e-mail
    }.
send-by = Envoyer un code { $channel ->
        [sms] par SMS
       *[email] par e-mail
    }
err-field = Veuillez vérifier votre saisie ({ $field }).

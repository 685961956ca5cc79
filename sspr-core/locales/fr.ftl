# Les notifications de sspr, en français (mêmes clés que en.ftl).
# Textes `-sms` : un seul segment, en caractères GSM-7 seulement (ni ê, ç, â, î, ô, û,
# ni apostrophe typographique).

datetime = { $day ->
        [1] 1er
       *[other] { $day }
    } { $month ->
        [1] janvier
        [2] février
        [3] mars
        [4] avril
        [5] mai
        [6] juin
        [7] juillet
        [8] août
        [9] septembre
        [10] octobre
        [11] novembre
       *[12] décembre
    } { $year } à { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } minute
       *[other] { $minutes } minutes
    }

pin-reset-subject = Votre code de réinitialisation du mot de passe
pin-reset-body = Votre code est { $pin }. Il est valable { duration-minutes }. Ne le communiquez à personne ; nous ne vous le demanderons jamais. Si vous ne l’avez pas demandé, ignorez ce message.
pin-reset-sms = Votre code est { $pin }. Il est valable { duration-minutes }. Ne le communiquez à personne ; nous ne vous le demanderons jamais.

pin-proof-subject = Votre code pour confirmer vos coordonnées
pin-proof-body = Votre code est { $pin }. Il est valable { duration-minutes }. Saisissez-le sur la page où vous ajoutez cette adresse pour la réinitialisation de votre mot de passe. Ne le communiquez à personne. Si vous ne l’avez pas demandé, ignorez ce message.
pin-proof-sms = Votre code est { $pin }. Saisissez-le sur la page où vous ajoutez ce numéro. Valable { duration-minutes }. Ne le communiquez à personne.

pin-helpdesk-subject = Votre code de récupération du support informatique
pin-helpdesk-body = Votre support informatique vous a envoyé ce code : { $pin }. Il est valable { duration-minutes }. Saisissez-le sur la page de réinitialisation du mot de passe, sous « J’ai un code du support informatique ». Ne le communiquez à personne. Si vous n’avez pas appelé le support informatique, prévenez-le immédiatement.
pin-helpdesk-sms = Code de votre support informatique : { $pin }. Valable { duration-minutes }. Ne le communiquez à personne. Vous ne les avez pas appelés ? Prévenez-les.

reset-requested-subject = Réinitialisation de votre mot de passe demandée
reset-requested-body = Le { $at }, la réinitialisation de votre mot de passe a été demandée et un code a été envoyé à { $masked }. Si ce n’était pas vous, contactez votre support informatique.
reset-requested-sms = La réinitialisation de votre mot de passe a été demandée et un code envoyé { $channel ->
        [sms] par SMS
       *[email] par e-mail
    }. Si ce n'était pas vous, contactez votre support informatique.

password-reset-subject = { $unlock ->
        [yes] Votre compte a été déverrouillé
       *[no] Votre mot de passe a été réinitialisé
    }
password-reset-body = Le { $at }, { $unlock ->
        [yes] votre compte a été déverrouillé
       *[no] votre mot de passe a été réinitialisé
    } en libre-service. Si ce n’était pas vous, contactez immédiatement votre support informatique.
password-reset-sms = { $unlock ->
        [yes] Votre compte a été déverrouillé
       *[no] Votre mot de passe a été réinitialisé
    } en libre-service. Si ce n'était pas vous, contactez immédiatement votre support informatique.

contacts-changed-subject = Vos coordonnées ont été modifiées
contacts-changed-body = Le { $at }, les coordonnées servant à réinitialiser votre mot de passe ont été modifiées{ $by ->
        [admin] { " " }par un administrateur
       *[user] { "" }
    }. Si ce n’était pas vous, contactez votre support informatique.
contacts-changed-sms = Vos coordonnées de réinitialisation du mot de passe ont été modifiées{ $by ->
        [admin] { " " }par un administrateur
       *[user] { "" }
    }. Si ce n'était pas vous, contactez le support informatique.

password-changed-subject = Votre mot de passe a été modifié
password-changed-body = Le { $at }, votre mot de passe a été modifié avec le mot de passe actuel. Si ce n’était pas vous, contactez immédiatement votre support informatique.
password-changed-sms = Votre mot de passe a été modifié avec le mot de passe actuel. Si ce n'était pas vous, contactez immédiatement votre support informatique.

registration-reminder-subject = { $confirm ->
        [yes] Confirmez vos coordonnées pour la réinitialisation de votre mot de passe
       *[no] Enregistrez des coordonnées pour la réinitialisation de votre mot de passe
    }
registration-reminder-body = { $confirm ->
        [yes] Vos coordonnées pour la réinitialisation de votre mot de passe n’ont pas été confirmées depuis longtemps. Connectez-vous sur { $url } pour les confirmer ou les modifier.
       *[no] Votre compte n’a pas encore de coordonnées permettant de réinitialiser vous-même un mot de passe oublié. Connectez-vous sur { $url } et ajoutez une adresse e-mail personnelle ou un numéro de mobile.
    } Nous ne vous demandons jamais votre mot de passe par e-mail.

helpdesk-recovery-subject = Récupération de votre compte par le support informatique
helpdesk-recovery-body = Le { $at }, { $redeemed ->
        [yes] un code de récupération du support informatique a été utilisé pour votre compte.
       *[no] le support informatique a émis un code de récupération pour votre compte.
    } Si ce n’était pas vous, contactez immédiatement votre support informatique.
helpdesk-recovery-sms = { $redeemed ->
        [yes] Un code de récupération du support informatique a été utilisé pour votre compte.
       *[no] Le support informatique a émis un code de récupération pour votre compte.
    } Pas vous ? Contactez vite le support informatique.

admin-alert-subject = Alerte de sécurité de la réinitialisation de mot de passe en libre-service
admin-alert-failure-alarm = Le { $at }, les vérifications de PIN échouées, tous utilisateurs confondus, ont atteint le seuil d’alerte (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }depuis { $ip }
    } : quelqu’un essaie peut-être de deviner les PIN de nombreux comptes.
admin-alert-privileged = Le { $at }, une réinitialisation ou une récupération de mot de passe en libre-service a été tentée pour le compte privilégié { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }depuis { $ip }
    } et refusée (rien de ce qui a été répondu ne le révèle).
admin-alert-unknown-account = (inconnu)
admin-alert-footer = Si ce n’était pas attendu, consultez le journal d’audit. Les alertes suivantes de ce type sont retenues pendant { duration-minutes }.

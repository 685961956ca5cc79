# Los avisos de sspr, en español (las mismas claves que en.ftl).
# Textos `-sms`: un solo segmento, solo caracteres GSM-7 (sin á, í, ó, ú: «clave» en
# lugar de «código», «soporte técnico»).

datetime = { $day } de { $month ->
        [1] enero
        [2] febrero
        [3] marzo
        [4] abril
        [5] mayo
        [6] junio
        [7] julio
        [8] agosto
        [9] septiembre
        [10] octubre
        [11] noviembre
       *[12] diciembre
    } de { $year }, a las { $time } ({ $offset })

# Referenced by the messages below with their own $minutes (Fluent passes a term only literals).
duration-minutes = { $minutes ->
        [one] { $minutes } minuto
       *[other] { $minutes } minutos
    }

pin-reset-subject = Su código para restablecer la contraseña
pin-reset-body = Su código es { $pin }. Es válido durante { duration-minutes }. No lo comparta con nadie; nunca se lo pediremos. Si no lo ha solicitado, ignore este mensaje.
pin-reset-sms = Su clave es { $pin }. Caduca en { duration-minutes }. No la comparta con nadie; nunca se la pediremos. Si no la ha pedido, ignore este mensaje.

pin-proof-subject = Su código para confirmar sus datos de contacto
pin-proof-body = Su código es { $pin }. Es válido durante { duration-minutes }. Introdúzcalo en la página en la que está añadiendo esta dirección para restablecer su contraseña. No lo comparta con nadie. Si no lo ha solicitado, ignore este mensaje.
pin-proof-sms = Su clave para confirmar este teléfono es { $pin }. Caduca en { duration-minutes }. No la comparta con nadie. Si no la ha pedido, ignore este mensaje.

pin-helpdesk-subject = Su código de recuperación del soporte técnico
pin-helpdesk-body = Su soporte técnico le ha enviado este código: { $pin }. Es válido durante { duration-minutes }. Introdúzcalo en la página para restablecer la contraseña, en «Tengo un código del soporte técnico». No lo comparta con nadie. Si no ha llamado al soporte técnico, avíseles de inmediato.
pin-helpdesk-sms = Su soporte técnico le ha enviado esta clave: { $pin }. Caduca en { duration-minutes }. No la comparta con nadie. Si no ha llamado al soporte, avise enseguida.

reset-requested-subject = Se ha solicitado restablecer su contraseña
reset-requested-body = El { $at } se solicitó restablecer su contraseña y se envió un código a { $masked }. Si no ha sido usted, póngase en contacto con su soporte técnico.
reset-requested-sms = Se ha pedido restablecer su contraseña y se ha enviado una clave { $channel ->
        [sms] por SMS
       *[email] por correo
    }. Si no ha sido usted, avise a su soporte técnico.

password-reset-subject = { $unlock ->
        [yes] Su cuenta se ha desbloqueado
       *[no] Su contraseña se ha restablecido
    }
password-reset-body = El { $at } { $unlock ->
        [yes] se desbloqueó su cuenta
       *[no] se restableció su contraseña
    } mediante autoservicio. Si no ha sido usted, póngase en contacto de inmediato con su soporte técnico.
password-reset-sms = { $unlock ->
        [yes] Su cuenta se ha desbloqueado
       *[no] Su contraseña se ha restablecido
    } por autoservicio. Si no ha sido usted, avise de inmediato a su soporte técnico.

contacts-changed-subject = Sus datos de contacto se han cambiado
contacts-changed-body = El { $at } { $by ->
        [admin] un administrador cambió los datos de contacto
       *[user] se cambiaron los datos de contacto
    } para restablecer su contraseña. Si no ha sido usted, póngase en contacto con su soporte técnico.
contacts-changed-sms = { $by ->
        [admin] Un administrador ha cambiado sus datos de contacto
       *[user] Se han cambiado sus datos de contacto
    } para restablecer la contraseña. Si no ha sido usted, avise a su soporte técnico.

password-changed-subject = Su contraseña se ha cambiado
password-changed-body = El { $at } se cambió su contraseña con la contraseña actual. Si no ha sido usted, póngase en contacto de inmediato con su soporte técnico.
password-changed-sms = Su contraseña se ha cambiado con la contraseña actual. Si no ha sido usted, avise de inmediato a su soporte técnico.

registration-reminder-subject = { $confirm ->
        [yes] Confirme sus datos de contacto para restablecer su contraseña
       *[no] Registre datos de contacto para restablecer su contraseña
    }
registration-reminder-body = { $confirm ->
        [yes] Hace mucho tiempo que no confirma sus datos de contacto para restablecer su contraseña. Inicie sesión en { $url } y confírmelos o cámbielos.
       *[no] Su cuenta aún no tiene datos de contacto para restablecer usted mismo una contraseña olvidada. Inicie sesión en { $url } y añada una dirección de correo personal o un número de móvil.
    } Nunca le pediremos su contraseña por correo electrónico.

helpdesk-recovery-subject = Recuperación de su cuenta por el soporte técnico
helpdesk-recovery-body = El { $at } { $redeemed ->
        [yes] se usó un código de recuperación del soporte técnico para su cuenta.
       *[no] el soporte técnico emitió un código de recuperación para su cuenta.
    } Si no ha sido usted, póngase en contacto de inmediato con su soporte técnico.
helpdesk-recovery-sms = { $redeemed ->
        [yes] Se ha usado una clave de su soporte técnico para recuperar su cuenta.
       *[no] Su soporte técnico ha emitido una clave para recuperar su cuenta.
    } Si no ha sido usted, avise de inmediato al soporte técnico.

admin-alert-subject = Aviso de seguridad del autoservicio de contraseñas
admin-alert-failure-alarm = El { $at } las verificaciones de PIN fallidas de todos los usuarios alcanzaron el umbral de alarma (failure_alarm_per_hour){ $ip ->
        [none] { "" }
       *[other] { " " }desde { $ip }
    }: puede que alguien esté intentando adivinar los PIN de muchas cuentas.
admin-alert-privileged = El { $at } se intentó restablecer o recuperar mediante autoservicio la contraseña de la cuenta privilegiada { $user }{ $ip ->
        [none] { "" }
       *[other] { " " }desde { $ip }
    } y se rechazó (no se dijo nada a quien lo intentó que lo delate).
admin-alert-unknown-account = (desconocida)
admin-alert-footer = Si no era de esperar, revise el registro de auditoría. Los siguientes avisos de este tipo se retienen durante { duration-minutes }.

# Los textos de las páginas web, en español (las mismas claves y variables que en.ftl).

## Textos fijos

brand = Autoservicio de contraseñas
index-intro = ¿Ha olvidado su contraseña? Restablézcala usted mismo con un código de un solo uso enviado a su correo electrónico alternativo o a su teléfono móvil.
index-reset = Restablecer mi contraseña
index-register = Registrar mi correo electrónico alternativo y mi móvil
index-admin = Administración
index-outbox = Bandeja de salida de desarrollo (códigos «enviados» por correo electrónico y SMS)
reset-title = Restablecer su contraseña
reset-intro = Introduzca su nombre de usuario. Enviaremos un código de un solo uso a uno de los contactos que haya registrado.
login-label = Nombre de usuario (p. ej., jane.doe@example.org)
continue-btn = Continuar
methods-intro = ¿Adónde enviamos su código de un solo uso?
via-email = Correo electrónico a
via-sms = SMS al
confirm-label = Para confirmar, escriba la dirección o el número completo
send-btn = Enviar código
start-over = Empezar de nuevo
pin-label = Código de un solo uso
verify-btn = Verificar
new-code = Enviar un código nuevo
modes-intro = Código confirmado. ¿Cómo desea continuar?
mode-temporary = Darme una contraseña temporal
mode-unlock = Solo desbloquear mi cuenta
mode-chosen = Elegir mi propia contraseña
new-password-label = Nueva contraseña
new-password-again-label = Repita la nueva contraseña
passwords-differ = Las dos contraseñas no coinciden.
temp-title = Su contraseña temporal
temp-note = Anótela ahora: se muestra una sola vez y nunca se envía. Deberá cambiarla la próxima vez que inicie sesión.
unlocked-done = Su cuenta está desbloqueada. Inicie sesión con su contraseña actual.
chosen-done = Su contraseña se ha cambiado. Inicie sesión con su nueva contraseña.
second-method = Su cuenta también necesita un código recibido por un segundo método.
err-login = Introduzca un nombre de usuario válido.
err-method = Elija adónde enviar el código.
err-confirm = Escriba la dirección o el número completo, exactamente como está registrado.
err-expired = Este restablecimiento ha caducado. Vuelva a empezar.
err-used = Este restablecimiento ya se ha utilizado. Vuelva a empezar.
err-voided = Demasiados códigos incorrectos: este código ya no es válido. Vuelva a empezar.
err-state = Este paso no es posible ahora. Vuelva a empezar.
err-unavailable = El servicio no está disponible en este momento. Inténtelo de nuevo más tarde.
err-challenge-required = Complete primero la comprobación de que no es un robot y luego continúe.
err-challenge-failed = La comprobación de que no es un robot no se ha superado. Inténtelo de nuevo.
err-challenge-unavailable = La comprobación de que no es un robot no se puede verificar en este momento. Inténtelo de nuevo más tarde.
err-not-allowed = El restablecimiento por autoservicio no es posible para esta cuenta. Póngase en contacto con el soporte técnico.
err-session = Su sesión ha caducado o el formulario está desactualizado. Vuelva a cargar la página e inténtelo de nuevo.
err-input = No se ha aceptado lo introducido.
signin-title = Iniciar sesión
password-label = Contraseña
signin-btn = Iniciar sesión
oidc-signin-btn = Iniciar sesión con la cuenta de su organización
oidc-continue = Continuar con el inicio de sesión
signout-btn = Cerrar sesión
signin-failed = El nombre de usuario o la contraseña no son correctos.
register-title = Sus datos de contacto para restablecer la contraseña
register-intro = Cuando restablezca su contraseña, se enviará un código de un solo uso a uno de estos contactos. Use una dirección y un número que no dependan de su cuenta de trabajo.
email-label = Correo electrónico alternativo
phone-label = Teléfono móvil (formato internacional, p. ej., +34 612 34 56 78)
save-btn = Guardar
saved = Guardado. Sus datos de contacto se han actualizado.
code-label = Código
confirm-btn = Confirmar
proof-dead = Ese código ya no es válido. Guarde de nuevo el contacto para recibir uno nuevo.
not-enabled = El restablecimiento de contraseña por autoservicio no está activado para su cuenta. Póngase en contacto con el soporte técnico.
must-change-note = Debe cambiar su contraseña antes de continuar.
must-change-link = Cambiar mi contraseña ahora
index-change = Cambiar mi contraseña
change-title = Cambiar la contraseña
change-intro = Escriba su nombre de usuario, su contraseña actual (o la temporal que recibió) y una nueva contraseña.
current-password-label = Contraseña actual
change-btn = Cambiar la contraseña
changed = Su contraseña se ha cambiado. Use la nueva a partir de ahora.
change-unsupported = Con este directorio, las contraseñas no se pueden cambiar aquí. Use el cambio de contraseña de su propio ordenador.
rules-title = La nueva contraseña debe
rule-complexity = combinar al menos tres de estos tipos: mayúsculas, minúsculas, cifras, símbolos; y no contener su nombre de usuario
admin-must-change = Debe cambiar su contraseña antes de poder usar las páginas de administración: inicie sesión en su ordenador o en el portal de su cuenta para cambiarla.
admin-title = Administración
admin-signin-title = Inicio de sesión de administrador
search-label = Buscar usuarios (nombre de usuario o nombre)
search-btn = Buscar
no-results = No se ha encontrado ningún usuario.
search-too-long = La búsqueda es demasiado larga: { $max } caracteres como máximo.
col-login = Usuario
col-name = Nombre
col-status = Estado
col-contacts = Contactos
enabled = activado
disabled = no activado
eligible = apto
ineligible = no apto
privileged = privilegiado
account-disabled = cuenta deshabilitada
account-locked = cuenta bloqueada
enable-btn = Activar el autoservicio
disable-btn = Desactivar el autoservicio
unblock-btn = Desbloquear
blocked-until = Bloqueado hasta el
last-reset = Último restablecimiento
never = nunca
unknown-user = Ese usuario no existe.
audit-title = Registro de auditoría (los más recientes primero)
done = Hecho.
outbox-title = Bandeja de salida de desarrollo
outbox-note = No se envía nada de verdad: cada correo electrónico y cada SMS llegan aquí. Desactive esta página (outbox_page = false) y configure SMTP/SMS para producción.
outbox-empty = Todavía no hay mensajes.
outbox-preview-title = Vista previa de cada aviso en cada idioma
outbox-preview-note = Cada aviso que envía sspr, con valores de ejemplo, en cada uno de sus seis idiomas: como correo electrónico y como el SMS que recibe un teléfono. Las fechas están en la zona horaria de la política
back = Volver
reconfirm-note = Sus datos de contacto se confirmaron hace tiempo. ¿Siguen siendo correctos? Cámbielos abajo o confírmelos tal como están.
reconfirm-btn = Siguen siendo correctos
report-title = Informe de registro
report-ous = UO (un DN por línea; vacío: todas)
report-groups = Grupos (uno por línea; vacío: todos)
report-stale-days = Contactos obsoletos tras (días; vacío: los de la política)
report-btn = Mostrar informe
remind-btn = Enviar recordatorios de registro
remind-note = Se envía un recordatorio al buzón del directorio de cada usuario activado que aparece sin contactos o con contactos obsoletos, como máximo una vez por intervalo de recordatorio; a los usuarios privilegiados nunca se les envía.
count-users = usuarios
count-enabled = activados
count-registered = registrados
count-without-contacts = sin contactos
count-stale = contactos obsoletos
count-never-used = nunca usado
count-blocked = bloqueados
count-privileged = privilegiados
count-without-mailbox = sin buzón
flag-no-contacts = sin contactos
flag-stale = obsoleto
flag-never-used = nunca usado
flag-blocked = bloqueado
audit-col-time = Hora
audit-col-event = Evento
audit-col-user = Usuario
audit-col-detail = Detalle
audit-col-ip = IP
audit-col-actor = Actor
audit-col-outcome = Resultado
reports-title = Informes (últimos 30 días)
reports-unavailable = Los informes leen el registro de auditoría guardado en SQL: configure [audit] kind = "sqlite" o "postgres" en la configuración del portal.
figure-begun = restablecimientos iniciados
figure-decoys = respuestas señuelo
figure-completed = restablecimientos completados
figure-failed = restablecimientos fallidos
figure-blocked = usuarios bloqueados
figure-registrations = registros
reports-resets = Restablecimientos por día
reports-completed = completados
reports-failed = fallidos
reports-registrations = Registros por día
reports-blocks = Usuarios bloqueados por día
reports-decoys = Respuestas señuelo por motivo
reports-failures = Fallos más frecuentes
reports-none = Ninguno en estos 30 días.

## Recuperación por el soporte técnico

recovery-link = Tengo un código del soporte técnico
recovery-title = Código del soporte técnico
recovery-intro = Su soporte técnico le ha dado (o enviado) un código de recuperación de un solo uso. Introduzca su nombre de usuario y el código.
recovery-code-label = Código de recuperación
recovery-redeem-btn = Continuar
recovery-wrong = El código no es correcto o ya no es válido. Compruebe el nombre de usuario y el código; si sigue fallando, pida un código nuevo al soporte técnico.
recovery-admin-title = Recuperación por el soporte técnico
recovery-admin-intro = Para un usuario que no puede recibir un código de restablecimiento: un código de un solo uso, válido 15 minutos, que el usuario introduce en «Tengo un código del soporte técnico» en la página de restablecimiento. Compruebe primero la identidad de quien llama. Se avisa a los contactos del usuario.
recovery-show = Mostrar el código aquí (léaselo al usuario)
recovery-by-email = Enviarlo al correo electrónico registrado
recovery-by-sms = Enviarlo al móvil registrado
recovery-issue-btn = Emitir un código de recuperación
recovery-code-title = Código de recuperación (se muestra una sola vez)
recovery-code-note = Léaselo al usuario ahora; no se volverá a mostrar. Un código nuevo sustituye a este.
recovery-sent = Se ha enviado un código de recuperación a { $masked } (válido hasta el { $at }).
recovery-valid-until = Válido hasta el { $at }

## Textos con valores

pin-sent = Se ha enviado un código a { $masked }.
pin-status = Válido hasta las { $time }. { $attempts ->
        [one] Queda { $attempts } intento.
       *[other] Quedan { $attempts } intentos.
    }
pin-hint = Las { $digits } cifras del mensaje
wrong-pin = El código no es correcto. { $attempts ->
        [one] Queda { $attempts } intento.
       *[other] Quedan { $attempts } intentos.
    }
pin-digits = Introduzca las { $digits } cifras que ha recibido.
rate-limited = Demasiadas solicitudes. Inténtelo de nuevo dentro de { $minutes ->
        [one] { $minutes } minuto.
       *[other] { $minutes } minutos.
    }
blocked = Demasiados códigos incorrectos: el restablecimiento por autoservicio está bloqueado hasta el { $at }.
reminders-done = Recordatorios enviados: { $sent }. Ya recordados: { $already }, sin buzón: { $without_mail }, privilegiados (nunca se les recuerda): { $privileged }, no pueden registrarse: { $ineligible }, fallidos: { $failed }.
proof-sent = Hemos enviado un código a { $masked }. Escríbalo aquí para guardar este contacto.
usable-from = utilizable para códigos a partir del { $at }
password-rejected = La contraseña ha sido rechazada: { $reason }.
rule-min-length = tener al menos { $n ->
        [one] { $n } carácter
       *[other] { $n } caracteres
    }
rule-history = ser distinta de { $n ->
        [one] su última contraseña
       *[other] sus últimas { $n } contraseñas
    }
rule-min-age = conservarse después al menos { $unit ->
        [hours] { $n ->
            [one] { $n } hora
           *[other] { $n } horas
        }
       *[minutes] { $n ->
            [one] { $n } minuto
           *[other] { $n } minutos
        }
    } antes de que pueda volver a cambiarla
refusal = { $rule ->
        [too-short] La nueva contraseña es demasiado corta.
        [too-recent] Su contraseña se cambió hace demasiado poco para poder cambiarla de nuevo.
        [in-history] Ya ha usado esta contraseña: elija otra.
        [too-simple] La nueva contraseña es demasiado sencilla.
        [breached] La nueva contraseña aparece en listas de contraseñas filtradas.
       *[other] La nueva contraseña ha sido rechazada.
    } ({ $reason })
signed-in-as = Sesión iniciada como { $name }

## The framework routers (Python's FastAPI and Django, Node's Express)

code-title = Introduzca su código
second-title = Un código más
modes-title = Código aceptado
done-title = Hecho
add-contact = Añadir o cambiar
contact-value = Dirección o número
err-too-large = La solicitud es demasiado grande.
err-not-possible = Esto no es posible aquí. Póngase en contacto con el soporte técnico.
code-sent-by = Le hemos enviado un código { $channel ->
        [sms] por SMS
       *[email] por correo electrónico
    }.
send-by = Enviar un código { $channel ->
        [sms] por SMS
       *[email] por correo electrónico
    }
err-field = Revise lo que ha introducido ({ $field }).

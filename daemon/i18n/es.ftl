# weft's web UI and gateway, in Spanish. See docs/translating.md.
# Each message is `id = text`; { $name } is a value weft fills in.

## lang
lang-name = Español
lang-label = Idioma
# The direction of the script: ltr (left to right) or rtl (right to left).
lang-dir = ltr

## nav
nav-catalog = Catálogo
nav-publish = Publicar
nav-rules = Seguir y bloquear
nav-network = Red
nav-storage = Almacenamiento

## search
search-label = Buscar
search-placeholder = Palabras de títulos, nombres o etiquetas
search-button = Buscar

## filter
filter-lang = Idioma
filter-tag = Etiqueta
filter-publisher = Editor
filter-any = Cualquiera
filter-clear = Quitar filtros

## catalog
catalog-matched = Paquetes encontrados: { $n }
catalog-empty = No hay resultados. Prueba con menos palabras o quita los filtros.
catalog-loading = Cargando…
catalog-held = en este nodo
catalog-pinned = guardado

## bundle
bundle-files = Archivos
bundle-file_count = Archivos: { $n }
bundle-size = Tamaño
bundle-publisher = Editor
bundle-name = Nombre
bundle-tags = Etiquetas
bundle-licence = Licencia
bundle-created = Publicado
bundle-version = Versión
bundle-id = Identificador del paquete
bundle-other_langs = También en
bundle-fetch = Descargar
bundle-fetch_pin = Descargar y guardar
bundle-pin = Guardar (fijar)
bundle-unpin = Dejar de guardar (desfijar)
bundle-pinned = Guardado en este nodo
bundle-not_pinned = No guardado: puede borrarse si falta espacio
bundle-held = En este nodo
bundle-not_local = Todavía no está en este nodo. Descárgalo para ver sus archivos.
bundle-retracted = El editor retiró este paquete.
bundle-superseded = Hay una versión más nueva.
bundle-download = Descargar
bundle-not_found = Este paquete no está aquí.
bundle-back = Volver al catálogo

## progress
progress-fetching = Descargando: { $done } de { $total }
progress-publishing = Publicando: { $done } de { $total }
progress-uploading = Subiendo { $name }
progress-done = Hecho.
progress-failed = No funcionó: { $error }

## publish
publish-intro = Comparte una carpeta o algunos archivos. Se firman con tu clave de editor y se ofrecen a tus pares.
publish-source = Qué publicar
publish-folder = Una carpeta de este ordenador
publish-folder_hint = Ruta completa, por ejemplo /home/yo/guia-reuniones
publish-upload = O archivos desde este navegador
publish-upload_folder = O una carpeta entera desde este navegador
publish-name = Nombre
publish-name_hint = Un nombre corto que no cambia entre versiones, por ejemplo guia-reuniones
publish-texts = Títulos y descripciones
publish-lang = Código de idioma
publish-title = Título
publish-description = Descripción
publish-add_lang = Añadir otro idioma
publish-tags = Etiquetas, separadas por comas
publish-licence = Licencia
publish-passphrase = Contraseña de tu clave de editor, si tiene
publish-submit = Publicar
publish-done = Publicado.
publish-open = Abrirlo
publish-need_source = Indica una carpeta o elige algunos archivos.
publish-need_title = Escribe al menos un título.
publish-no_key = Este nodo aún no tiene clave de editor. Ejecuta `weft init` una vez para crearla.

## rules
rules-intro = Sigue a un editor, una etiqueta o un idioma para guardar en este nodo todo lo que publique. Bloquea a un editor para no listar, guardar ni reenviar nunca sus paquetes.
rules-following = Siguiendo
rules-blocked = Bloqueados
rules-kind = Qué
rules-value = Valor
rules-publisher = Editor
rules-tag = Etiqueta
rules-lang = Idioma
rules-follow = Seguir
rules-block = Bloquear
rules-remove = Quitar
rules-none = Ninguno.

## network
network-peers = Pares
network-peer = Par
network-addresses = Direcciones
network-transport = Conexión
network-score = Puntuación
network-none = Todavía no hay conexión con ningún par.
network-checks = Comprobaciones
network-suggestion = Qué hacer
network-connect = Conectar con un par
network-connect_hint = Dirección de un par, /ip4/…/tcp/…/p2p/…
network-connect_button = Conectar

## storage
storage-intro = Lo que este nodo guarda en disco.
storage-used = Usado
storage-pinned = Guardado (fijado)
storage-cached = En caché, se puede borrar
storage-quota = Cuota
storage-no_quota = Sin cuota
storage-disk = En disco
storage-of_quota = { $used } de { $max }
storage-pins = Paquetes guardados
storage-none = Todavía no hay nada guardado.
storage-warnings = Avisos

## status
status-peers = Pares: { $n }
status-catalog = Catálogo: { $n }

## login
login-needed = Para usar esta página, abre el enlace que muestra `weft ui` en una terminal.

## error
error-generic = Algo salió mal: { $error }

## gateway
gateway-intro = Guías, formaciones, plantillas y materiales compartidos por organizaciones. Cada archivo se comprueba con la firma de su editor antes de enviártelo.
gateway-page = Página { $n }
gateway-prev = Anterior
gateway-next = Siguiente
gateway-not_here = Este paquete no está en este servidor.
gateway-not_found = No hay nada en esta dirección.
gateway-files_of = Archivos de este paquete
gateway-footer = Servido por un nodo weft. Solo lectura.

## filter
filter-trusted_only = Solo editores de confianza

## catalog
catalog-contested = en disputa: dos editores lo reclaman

## tier
tier-trusted = de confianza
tier-vouched = avalado
tier-seen = aún sin confianza
tier-blocked = bloqueado

## bundle
bundle-contested = Otro editor también reclama este paquete. Uno de los dos no dice la verdad; al descargarlo se comprueba su firma y solo queda el verdadero.

## publisher
publisher-own_claim = según él mismo
publisher-same_name = otra clave reclama este nombre
publisher-fingerprint = huella

## bundle
bundle-revoked = Firmado por un dispositivo que su editor revocó; se conserva solo porque lo fijaste.

## nav
nav-groups = Grupos

## group
group-private_badge = privado: { $group }
group-private_note = Privado. Solo los miembros de este grupo pueden leerlo:

## publish
publish-audience = Quién puede leerlo
publish-share_with = Compartir con
publish-everyone = Todo el mundo (público)
publish-group_only = Solo el grupo { $group }
publish-audience_hint = Para un grupo, los títulos, los nombres de archivo y los archivos se cifran; los demás nodos lo transportan sin poder leerlo.

## rules
rules-group = Grupo (para transportarlo, aunque no se lea)

## groups
groups-intro = Un grupo comparte paquetes que solo sus miembros pueden leer. Los hubs y los demás nodos pueden guardarlos y transmitirlos, pero solo ven su tamaño y su fecha.
groups-none = Este nodo todavía no conoce ningún grupo.
groups-new = Crear un grupo
groups-name = Nombre del grupo
groups-create = Crear
groups-unreadable = Un grupo que este nodo no puede leer
groups-member_count = Miembros: { $n }
groups-bundle_count = Paquetes: { $n }
groups-you_admin = Eres administrador
groups-you_member = Eres miembro
groups-you_outside = No eres miembro: este nodo solo transporta los paquetes del grupo.
groups-back = Volver a los grupos
groups-id = Identificador del grupo
groups-epoch = Época de la clave
groups-readable = Este nodo puede leerlo
groups-yes = sí
groups-no = no
groups-members = Miembros
groups-members_hidden = Solo los miembros ven quiénes son los miembros.
groups-admin = administrador
groups-remove = Quitar
groups-remove_who = Quitar a { $who } del grupo
groups-add_member = Añadir un miembro
groups-add_hint = Escribe el nombre que diste a un editor, o su identificador. Si más tarde quitas a alguien, empieza una clave nueva: conserva lo que ya descargó y no puede leer nada de lo que se comparta después.
groups-member = Editor (el nombre que le diste, o su identificador)
groups-history = Que también pueda leer lo compartido antes
groups-make_admin = Hacerlo administrador
groups-add = Añadir
groups-changed = El grupo ha cambiado; los nodos de sus miembros se enteran al conectarse.
groups-bundles = Compartido en este grupo
groups-publish_here = Publicar en este grupo
groups-no_bundles = Todavía no se ha compartido en este grupo nada que este nodo pueda leer.
groups-you = tú
groups-rekey = Empezar una clave nueva
groups-rekey_hint = Los mismos miembros; solo sus dispositivos en regla la reciben.
groups-rekey_due = Se revocó un dispositivo de un miembro después de que empezara la clave actual, así que un dispositivo incautado podría tenerla. Un administrador debe empezar una clave nueva.

## network
network-path = Camino
network-direct = directo
network-relayed = a través de un relé
network-also = también: { $list }
network-relayed_bytes = A través de relés desde que arrancó el nodo: { $bytes } (el tráfico propio de este nodo, en los dos sentidos). Una conexión directa le ahorra trabajo al relé.

## preview
preview-title = Vista previa
preview-truncated = La vista previa muestra solo el principio; descarga el archivo para leerlo entero.
preview-pdf_page = Primera página de { $name }

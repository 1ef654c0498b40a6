# weft's web UI and gateway, in French. See docs/translating.md.
# Each message is `id = text`; { $name } is a value weft fills in.

## lang
lang-name = Français
lang-label = Langue
# The direction of the script: ltr (left to right) or rtl (right to left).
lang-dir = ltr

## nav
nav-catalog = Catalogue
nav-publish = Publier
nav-rules = Suivre et bloquer
nav-network = Réseau
nav-storage = Stockage

## search
search-label = Rechercher
search-placeholder = Mots des titres, noms ou étiquettes
search-button = Rechercher

## filter
filter-lang = Langue
filter-tag = Étiquette
filter-publisher = Éditeur
filter-any = Toutes
filter-clear = Effacer les filtres

## catalog
catalog-matched = Paquets trouvés : { $n }
catalog-empty = Aucun résultat. Essayez avec moins de mots ou effacez les filtres.
catalog-loading = Chargement…
catalog-held = sur ce nœud
catalog-pinned = conservé

## bundle
bundle-files = Fichiers
bundle-file_count = Fichiers : { $n }
bundle-size = Taille
bundle-publisher = Éditeur
bundle-name = Nom
bundle-tags = Étiquettes
bundle-licence = Licence
bundle-created = Publié
bundle-version = Version
bundle-id = Identifiant du paquet
bundle-other_langs = Aussi en
bundle-fetch = Télécharger
bundle-fetch_pin = Télécharger et conserver
bundle-pin = Conserver (épingler)
bundle-unpin = Ne plus conserver (désépingler)
bundle-pinned = Conservé sur ce nœud
bundle-not_pinned = Non conservé : il peut être supprimé si la place manque
bundle-held = Sur ce nœud
bundle-not_local = Pas encore sur ce nœud. Téléchargez-le pour voir ses fichiers.
bundle-retracted = L’éditeur a retiré ce paquet.
bundle-superseded = Une version plus récente existe.
bundle-download = Télécharger
bundle-not_found = Ce paquet n’est pas ici.
bundle-back = Retour au catalogue

## progress
progress-fetching = Téléchargement : { $done } sur { $total }
progress-publishing = Publication : { $done } sur { $total }
progress-uploading = Envoi de { $name }
progress-done = Terminé.
progress-failed = Cela n’a pas marché : { $error }

## publish
publish-intro = Partagez un dossier ou quelques fichiers. Ils sont signés avec votre clé d’éditeur et proposés à vos pairs.
publish-source = Quoi publier
publish-folder = Un dossier de cet ordinateur
publish-folder_hint = Chemin complet, par exemple /home/moi/guide-reunion
publish-upload = Ou des fichiers depuis ce navigateur
publish-upload_folder = Ou un dossier entier depuis ce navigateur
publish-name = Nom
publish-name_hint = Un nom court qui reste le même d’une version à l’autre, par exemple guide-reunion
publish-texts = Titres et descriptions
publish-lang = Code de langue
publish-title = Titre
publish-description = Description
publish-add_lang = Ajouter une langue
publish-tags = Étiquettes, séparées par des virgules
publish-licence = Licence
publish-passphrase = Phrase secrète de votre clé d’éditeur, si elle en a une
publish-submit = Publier
publish-done = Publié.
publish-open = L’ouvrir
publish-need_source = Indiquez un dossier ou choisissez des fichiers.
publish-need_title = Donnez au moins un titre.
publish-no_key = Ce nœud n’a pas encore de clé d’éditeur. Lancez `weft init` une fois pour en créer une.

## rules
rules-intro = Suivez un éditeur, une étiquette ou une langue pour conserver sur ce nœud tout ce qu’il publie. Bloquez un éditeur pour ne jamais lister, conserver ni transmettre ses paquets.
rules-following = Suivis
rules-blocked = Bloqués
rules-kind = Quoi
rules-value = Valeur
rules-publisher = Éditeur
rules-tag = Étiquette
rules-lang = Langue
rules-follow = Suivre
rules-block = Bloquer
rules-remove = Retirer
rules-none = Aucun.

## network
network-peers = Pairs
network-peer = Pair
network-addresses = Adresses
network-transport = Connexion
network-score = Score
network-none = Pas encore connecté à un pair.
network-checks = Vérifications
network-suggestion = Que faire
network-connect = Se connecter à un pair
network-connect_hint = Adresse d’un pair, /ip4/…/tcp/…/p2p/…
network-connect_button = Connecter

## storage
storage-intro = Ce que ce nœud garde sur le disque.
storage-used = Utilisé
storage-pinned = Conservé (épinglé)
storage-cached = En cache, supprimable
storage-quota = Quota
storage-no_quota = Pas de quota
storage-disk = Sur le disque
storage-of_quota = { $used } sur { $max }
storage-pins = Paquets conservés
storage-none = Rien n’est conservé pour l’instant.
storage-warnings = Avertissements

## status
status-peers = Pairs : { $n }
status-catalog = Catalogue : { $n }

## login
login-needed = Pour utiliser cette page, ouvrez le lien qu’affiche `weft ui` dans un terminal.

## error
error-generic = Une erreur est survenue : { $error }

## gateway
gateway-intro = Guides, formations, modèles et médias partagés par des collectifs. Chaque fichier est vérifié avec la signature de son éditeur avant de vous être envoyé.
gateway-page = Page { $n }
gateway-prev = Précédente
gateway-next = Suivante
gateway-not_here = Ce paquet n’est pas sur ce serveur.
gateway-not_found = Il n’y a rien à cette adresse.
gateway-files_of = Fichiers de ce paquet
gateway-footer = Servi par un nœud weft. Lecture seule.

## filter
filter-trusted_only = Seulement les éditeurs de confiance

## catalog
catalog-contested = contesté : deux éditeurs le revendiquent

## tier
tier-trusted = de confiance
tier-vouched = recommandé
tier-seen = pas encore de confiance
tier-blocked = bloqué

## bundle
bundle-contested = Un autre éditeur revendique aussi ce paquet. L'un des deux ne dit pas la vérité ; le télécharger vérifie sa signature et ne garde que la vraie revendication.

## publisher
publisher-own_claim = selon lui-même
publisher-same_name = une autre clé revendique ce nom
publisher-fingerprint = empreinte

## bundle
bundle-revoked = Signé par un appareil que son éditeur a révoqué ; gardé seulement parce que vous l'avez épinglé.

## nav
nav-groups = Groupes

## group
group-private_badge = privé : { $group }
group-private_note = Privé. Seuls les membres de ce groupe peuvent le lire :

## publish
publish-audience = Qui peut le lire
publish-share_with = Partager avec
publish-everyone = Tout le monde (public)
publish-group_only = Seulement le groupe { $group }
publish-audience_hint = Pour un groupe, les titres, les noms de fichiers et les fichiers sont chiffrés ; les autres nœuds le transportent sans pouvoir le lire.

## rules
rules-group = Groupe (pour le transporter, même sans le lire)

## groups
groups-intro = Un groupe partage des paquets que seuls ses membres peuvent lire. Les hubs et les autres nœuds peuvent les stocker et les transmettre, mais n'en voient que la taille et la date.
groups-none = Ce nœud ne connaît encore aucun groupe.
groups-new = Créer un groupe
groups-name = Nom du groupe
groups-create = Créer
groups-unreadable = Un groupe que ce nœud ne peut pas lire
groups-member_count = Membres : { $n }
groups-bundle_count = Paquets : { $n }
groups-you_admin = Vous êtes administrateur
groups-you_member = Vous êtes membre
groups-you_outside = Vous n'êtes pas membre : ce nœud ne fait que transporter les paquets du groupe.
groups-back = Retour aux groupes
groups-id = Identifiant du groupe
groups-epoch = Époque de la clé
groups-readable = Ce nœud peut le lire
groups-yes = oui
groups-no = non
groups-members = Membres
groups-members_hidden = Seuls les membres voient qui sont les membres.
groups-admin = administrateur
groups-remove = Retirer
groups-remove_who = Retirer { $who } du groupe
groups-add_member = Ajouter un membre
groups-add_hint = Donnez le nom que vous avez donné à un éditeur, ou son identifiant. Retirer quelqu'un plus tard crée une nouvelle clé : il garde ce qu'il a déjà récupéré et ne peut rien lire de ce qui sera partagé ensuite.
groups-member = Éditeur (le nom que vous lui avez donné, ou son identifiant)
groups-history = Lui permettre aussi de lire ce qui a été partagé avant
groups-make_admin = En faire un administrateur
groups-add = Ajouter
groups-changed = Le groupe est modifié ; les nœuds de ses membres l'apprennent en se connectant.
groups-bundles = Partagé dans ce groupe
groups-publish_here = Publier dans ce groupe
groups-no_bundles = Rien de ce que ce nœud peut lire n'a encore été partagé dans ce groupe.
groups-you = vous
groups-rekey = Créer une nouvelle clé
groups-rekey_hint = Mêmes membres ; seuls leurs appareils en règle la reçoivent.
groups-rekey_due = Un appareil d'un membre a été révoqué après le début de la clé actuelle : un appareil saisi peut donc la détenir. Un administrateur doit créer une nouvelle clé.

## network
network-path = Chemin
network-direct = direct
network-relayed = par un relais
network-also = aussi : { $list }
network-relayed_bytes = Par des relais depuis le démarrage du nœud : { $bytes } (le trafic de ce nœud, dans les deux sens). Une connexion directe épargne le relais.

## preview
preview-title = Aperçu
preview-truncated = L’aperçu ne montre que le début ; téléchargez le fichier pour tout lire.
preview-pdf_page = Première page de { $name }

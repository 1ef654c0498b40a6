# weft's web UI and gateway, in Portuguese. See docs/translating.md.
# Each message is `id = text`; { $name } is a value weft fills in.

## lang
lang-name = Português
lang-label = Idioma
# The direction of the script: ltr (left to right) or rtl (right to left).
lang-dir = ltr

## nav
nav-catalog = Catálogo
nav-publish = Publicar
nav-rules = Seguir e bloquear
nav-network = Rede
nav-storage = Armazenamento

## search
search-label = Pesquisar
search-placeholder = Palavras em títulos, nomes ou etiquetas
search-button = Pesquisar

## filter
filter-lang = Idioma
filter-tag = Etiqueta
filter-publisher = Publicador
filter-any = Qualquer
filter-clear = Limpar filtros

## catalog
catalog-matched = Pacotes encontrados: { $n }
catalog-empty = Nada encontrado. Tente menos palavras ou limpe os filtros.
catalog-loading = Carregando…
catalog-held = neste nó
catalog-pinned = guardado

## bundle
bundle-files = Arquivos
bundle-file_count = Arquivos: { $n }
bundle-size = Tamanho
bundle-publisher = Publicador
bundle-name = Nome
bundle-tags = Etiquetas
bundle-licence = Licença
bundle-created = Publicado
bundle-version = Versão
bundle-id = ID do pacote
bundle-other_langs = Também em
bundle-fetch = Obter
bundle-fetch_pin = Obter e guardar
bundle-pin = Guardar (fixar)
bundle-unpin = Deixar de guardar (desafixar)
bundle-pinned = Guardado neste nó
bundle-not_pinned = Não guardado: pode ser removido se faltar espaço
bundle-held = Neste nó
bundle-not_local = Ainda não está neste nó. Obtenha-o para ver os arquivos.
bundle-retracted = O publicador retirou este pacote.
bundle-superseded = Existe uma versão mais nova.
bundle-download = Baixar
bundle-not_found = Este pacote não está aqui.
bundle-back = Voltar ao catálogo

## progress
progress-fetching = Obtendo: { $done } de { $total }
progress-publishing = Publicando: { $done } de { $total }
progress-uploading = Enviando { $name }
progress-done = Concluído.
progress-failed = Não funcionou: { $error }

## publish
publish-intro = Compartilhe uma pasta ou alguns arquivos. Eles são assinados com a sua chave de publicador e oferecidos aos seus pares.
publish-source = O que publicar
publish-folder = Uma pasta deste computador
publish-folder_hint = Caminho completo, por exemplo /home/eu/guia-reunioes
publish-upload = Ou arquivos deste navegador
publish-upload_folder = Ou uma pasta inteira deste navegador
publish-name = Nome
publish-name_hint = Um nome curto que continua o mesmo nas novas versões, por exemplo guia-reunioes
publish-texts = Títulos e descrições
publish-lang = Código do idioma
publish-title = Título
publish-description = Descrição
publish-add_lang = Adicionar outro idioma
publish-tags = Etiquetas, separadas por vírgulas
publish-licence = Licença
publish-passphrase = Senha da sua chave de publicador, se houver
publish-submit = Publicar
publish-done = Publicado.
publish-open = Abrir
publish-need_source = Indique uma pasta ou escolha alguns arquivos.
publish-need_title = Escreva pelo menos um título.
publish-no_key = Este nó ainda não tem chave de publicador. Execute `weft init` uma vez para criar uma.

## rules
rules-intro = Siga um publicador, uma etiqueta ou um idioma para guardar neste nó tudo o que for publicado por ele ou com ele. Bloqueie um publicador para nunca listar, guardar nem repassar os pacotes dele.
rules-following = Seguindo
rules-blocked = Bloqueados
rules-kind = Tipo
rules-value = Valor
rules-publisher = Publicador
rules-tag = Etiqueta
rules-lang = Idioma
rules-follow = Seguir
rules-block = Bloquear
rules-remove = Remover
rules-none = Nenhum.

## network
network-peers = Pares
network-peer = Par
network-addresses = Endereços
network-transport = Conexão
network-score = Pontuação
network-none = Ainda sem conexão com nenhum par.
network-checks = Verificações
network-suggestion = O que fazer
network-connect = Conectar a um par
network-connect_hint = Endereço de um par, /ip4/…/tcp/…/p2p/…
network-connect_button = Conectar

## storage
storage-intro = O que este nó guarda em disco.
storage-used = Usado
storage-pinned = Guardado (fixado)
storage-cached = Em cache, removível
storage-quota = Cota
storage-no_quota = Sem cota
storage-disk = Em disco
storage-of_quota = { $used } de { $max }
storage-pins = Pacotes guardados
storage-none = Nada guardado ainda.
storage-warnings = Avisos

## status
status-peers = Pares: { $n }
status-catalog = Catálogo: { $n }

## login
login-needed = Para usar esta página, abra o link que o comando `weft ui` mostra no terminal.

## error
error-generic = Algo deu errado: { $error }

## gateway
gateway-intro = Guias, formações, modelos e mídias compartilhados por quem organiza. Cada arquivo é verificado com a assinatura do seu publicador antes de ser enviado a você.
gateway-page = Página { $n }
gateway-prev = Anterior
gateway-next = Próxima
gateway-not_here = Este pacote não está neste servidor.
gateway-not_found = Não há nada neste endereço.
gateway-files_of = Arquivos deste pacote
gateway-footer = Servido por um nó weft. Somente leitura.

## filter
filter-trusted_only = Só publicadores em quem confio

## catalog
catalog-contested = contestado: dois publicadores o reivindicam

## tier
tier-trusted = de confiança
tier-vouched = avalizado
tier-seen = ainda sem confiança
tier-blocked = bloqueado

## bundle
bundle-contested = Outro publicador também reivindica este pacote. Um deles não está dizendo a verdade; ao obter o pacote, a assinatura é verificada e só a reivindicação verdadeira é mantida.

## publisher
publisher-own_claim = segundo o próprio
publisher-same_name = outra chave reivindica este nome
publisher-fingerprint = impressão digital

## bundle
bundle-revoked = Assinado por um dispositivo que o publicador revogou; guardado só porque você o fixou.

## nav
nav-groups = Grupos

## group
group-private_badge = privado: { $group }
group-private_note = Privado. Só os membros deste grupo podem ler:

## publish
publish-audience = Quem pode ler
publish-share_with = Compartilhar com
publish-everyone = Todos (público)
publish-group_only = Só o grupo { $group }
publish-audience_hint = Para um grupo, títulos, nomes de arquivo e arquivos são criptografados; os outros nós o transportam sem poder lê-lo.

## rules
rules-group = Grupo (para transportá-lo, mesmo sem ler)

## groups
groups-intro = Um grupo compartilha pacotes que só os membros podem ler. Hubs e outros nós podem armazená-los e repassá-los, mas só veem o tamanho e a data.
groups-none = Este nó ainda não conhece nenhum grupo.
groups-new = Criar um grupo
groups-name = Nome do grupo
groups-create = Criar
groups-unreadable = Um grupo que este nó não pode ler
groups-member_count = Membros: { $n }
groups-bundle_count = Pacotes: { $n }
groups-you_admin = Você é administrador
groups-you_member = Você é membro
groups-you_outside = Você não é membro: este nó só transporta os pacotes do grupo.
groups-back = Voltar aos grupos
groups-id = ID do grupo
groups-epoch = Época da chave
groups-readable = Este nó pode lê-lo
groups-yes = sim
groups-no = não
groups-members = Membros
groups-members_hidden = Só os membros veem quem são os membros.
groups-admin = administrador
groups-remove = Remover
groups-remove_who = Remover { $who } do grupo
groups-add_member = Adicionar um membro
groups-add_hint = Indique o nome que você deu a um publicador, ou o ID dele. Remover alguém depois inicia uma nova chave: a pessoa mantém o que já obteve e não pode ler nada compartilhado depois.
groups-member = Publicador (o nome que você deu a ele, ou o ID dele)
groups-history = Permitir também ler o que foi compartilhado antes
groups-make_admin = Tornar administrador
groups-add = Adicionar
groups-changed = O grupo foi alterado; os nós dos membros ficam sabendo ao se conectar.
groups-bundles = Compartilhado neste grupo
groups-publish_here = Publicar neste grupo
groups-no_bundles = Nada que este nó possa ler foi compartilhado neste grupo ainda.
groups-you = você
groups-rekey = Iniciar uma nova chave
groups-rekey_hint = Os mesmos membros; só os dispositivos deles em situação regular a recebem.
groups-rekey_due = Um dispositivo de um membro foi revogado depois que a chave atual começou, então um dispositivo apreendido pode tê-la. Um administrador deve iniciar uma nova chave.

## network
network-path = Rota
network-direct = direto
network-relayed = por um retransmissor
network-also = também: { $list }
network-relayed_bytes = Por retransmissores desde que o nó foi iniciado: { $bytes } (tráfego do próprio nó, nos dois sentidos). Uma conexão direta poupa o retransmissor.

## preview
preview-title = Pré-visualização
preview-truncated = A pré-visualização mostra só o início; baixe o arquivo para ler tudo.
preview-pdf_page = Primeira página de { $name }

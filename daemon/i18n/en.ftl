# weft's web UI and gateway, in English. See docs/translating.md.
# Each message is `id = text`; { $name } is a value weft fills in.

## lang
lang-name = English
lang-label = Language
# The direction of the script: ltr (left to right) or rtl (right to left).
lang-dir = ltr

## nav
nav-catalog = Catalog
nav-publish = Publish
nav-rules = Follow and block
nav-network = Network
nav-storage = Storage

## search
search-label = Search
search-placeholder = Words in titles, names or tags
search-button = Search

## filter
filter-lang = Language
filter-tag = Tag
filter-publisher = Publisher
filter-any = Any
filter-clear = Clear filters

## catalog
catalog-matched = Bundles found: { $n }
catalog-empty = Nothing matches. Try fewer words or clear the filters.
catalog-loading = Loading…
catalog-held = on this node
catalog-pinned = kept

## bundle
bundle-files = Files
bundle-file_count = Files: { $n }
bundle-size = Size
bundle-publisher = Publisher
bundle-name = Name
bundle-tags = Tags
bundle-licence = Licence
bundle-created = Published
bundle-version = Version
bundle-id = Bundle id
bundle-other_langs = Also in
bundle-fetch = Fetch
bundle-fetch_pin = Fetch and keep
bundle-pin = Keep (pin)
bundle-unpin = Stop keeping (unpin)
bundle-pinned = Kept on this node
bundle-not_pinned = Not kept: it may be removed when space runs low
bundle-held = On this node
bundle-not_local = Not on this node yet. Fetch it to see its files.
bundle-retracted = The publisher withdrew this bundle.
bundle-superseded = A newer version exists.
bundle-download = Download
bundle-not_found = This bundle is not here.
bundle-back = Back to the catalog

## progress
progress-fetching = Fetching: { $done } of { $total }
progress-publishing = Publishing: { $done } of { $total }
progress-uploading = Uploading { $name }
progress-done = Done.
progress-failed = It did not work: { $error }

## publish
publish-intro = Share a folder or some files. They are signed with your publisher key and offered to your peers.
publish-source = What to publish
publish-folder = A folder on this computer
publish-folder_hint = Full path, for example /home/me/meeting-guide
publish-upload = Or files from this browser
publish-upload_folder = Or a whole folder from this browser
publish-name = Name
publish-name_hint = A short name that stays the same for new versions, for example meeting-guide
publish-texts = Titles and descriptions
publish-lang = Language code
publish-title = Title
publish-description = Description
publish-add_lang = Add another language
publish-tags = Tags, separated by commas
publish-licence = Licence
publish-passphrase = Passphrase of your publisher key, if it has one
publish-submit = Publish
publish-done = Published.
publish-open = Open it
publish-need_source = Give a folder or choose some files.
publish-need_title = Give at least one title.
publish-no_key = This node has no publisher key yet. Run `weft init` once to make one.

## rules
rules-intro = Follow a publisher, tag or language to keep everything it publishes on this node. Block a publisher to never list, keep or pass on its bundles.
rules-following = Following
rules-blocked = Blocked
rules-kind = What
rules-value = Value
rules-publisher = Publisher
rules-tag = Tag
rules-lang = Language
rules-follow = Follow
rules-block = Block
rules-remove = Remove
rules-none = None.

## network
network-peers = Peers
network-peer = Peer
network-addresses = Addresses
network-transport = Connection
network-score = Score
network-none = Not connected to any peer yet.
network-checks = Checks
network-suggestion = What to do
network-connect = Connect to a peer
network-connect_hint = Address of a peer, /ip4/…/tcp/…/p2p/…
network-connect_button = Connect

## storage
storage-intro = What this node keeps on disk.
storage-used = Used
storage-pinned = Kept (pinned)
storage-cached = Cached, removable
storage-quota = Quota
storage-no_quota = No quota
storage-disk = On disk
storage-of_quota = { $used } of { $max }
storage-pins = Kept bundles
storage-none = Nothing kept yet.
storage-warnings = Warnings

## status
status-peers = Peers: { $n }
status-catalog = Catalog: { $n }

## login
login-needed = To use this page, open the link that `weft ui` prints in a terminal.

## error
error-generic = Something went wrong: { $error }

## gateway
gateway-intro = Guides, trainings, templates and media shared by organizers. Every file is checked against its publisher's signature before it is sent to you.
gateway-page = Page { $n }
gateway-prev = Previous
gateway-next = Next
gateway-not_here = This bundle is not on this server.
gateway-not_found = There is nothing at this address.
gateway-files_of = Files of this bundle
gateway-footer = Served by a weft node. Read-only.

## filter
filter-trusted_only = Only publishers I trust

## catalog
catalog-contested = contested: two publishers claim it

## tier
tier-trusted = trusted
tier-vouched = vouched for
tier-seen = not yet trusted
tier-blocked = blocked

## bundle
bundle-contested = Another publisher claims this bundle too. One of them is not telling the truth; fetching the bundle checks its signature and keeps only the true claim.

## publisher
publisher-own_claim = its own claim
publisher-same_name = another key claims this name
publisher-fingerprint = fingerprint

## bundle
bundle-revoked = Signed by a device its publisher revoked; kept only because you pinned it.

## nav
nav-groups = Groups

## group
group-private_badge = private: { $group }
group-private_note = Private. Only the members of this group can read it:

## publish
publish-audience = Who can read it
publish-share_with = Share with
publish-everyone = Everyone (public)
publish-group_only = Only the group { $group }
publish-audience_hint = For a group, titles, file names and files are encrypted; other nodes carry it without being able to read it.

## rules
rules-group = Group (to carry it, even unread)

## groups
groups-intro = A group shares bundles that only its members can read. Hubs and other nodes can store and pass them on, but see only their size and time.
groups-none = This node knows of no group yet.
groups-new = Start a group
groups-name = Name of the group
groups-create = Create
groups-unreadable = A group this node cannot read
groups-member_count = Members: { $n }
groups-bundle_count = Bundles: { $n }
groups-you_admin = You are an admin
groups-you_member = You are a member
groups-you_outside = You are not a member: this node only carries the group's bundles.
groups-back = Back to the groups
groups-id = Group id
groups-epoch = Key epoch
groups-readable = This node can read it
groups-yes = yes
groups-no = no
groups-members = Members
groups-members_hidden = Only members see who the members are.
groups-admin = admin
groups-remove = Remove
groups-remove_who = Remove { $who } from the group
groups-add_member = Add a member
groups-add_hint = Give the name you gave a publisher, or its id. Removing someone later starts a new key: they keep what they already fetched and cannot read anything shared after.
groups-member = Publisher (your name for it, or its id)
groups-history = Also let them read what was shared before
groups-make_admin = Make them an admin
groups-add = Add
groups-changed = The group is changed; its members' nodes learn it as they connect.
groups-bundles = Shared in this group
groups-publish_here = Publish to this group
groups-no_bundles = Nothing this node can read has been shared in this group yet.
groups-you = you
groups-rekey = Start a new key
groups-rekey_hint = Same members; only their devices in good standing receive it.
groups-rekey_due = A member's device was revoked after the current key began, so a seized device may hold it. An admin should start a new key.

## network
network-path = Path
network-direct = direct
network-relayed = through a relay
network-also = also: { $list }
network-relayed_bytes = Through relays since the node started: { $bytes } (this node's own traffic, both ways). A direct connection spares the relay.

## preview
preview-title = Preview
preview-truncated = The preview shows the beginning only; download the file to read all of it.
preview-pdf_page = First page of { $name }

# weft's web UI and gateway, in Arabic. See docs/translating.md.
# Each message is `id = text`; { $name } is a value weft fills in.

## lang
lang-name = العربية
lang-label = اللغة
# The direction of the script: ltr (left to right) or rtl (right to left).
lang-dir = rtl

## nav
nav-catalog = الفهرس
nav-publish = النشر
nav-rules = المتابعة والحظر
nav-network = الشبكة
nav-storage = التخزين

## search
search-label = بحث
search-placeholder = كلمات من العناوين أو الأسماء أو الوسوم
search-button = ابحث

## filter
filter-lang = اللغة
filter-tag = الوسم
filter-publisher = الناشر
filter-any = الكل
filter-clear = إزالة عوامل التصفية

## catalog
catalog-matched = الحزم التي عُثر عليها: { $n }
catalog-empty = لا توجد نتائج. جرّب كلمات أقل أو أزل عوامل التصفية.
catalog-loading = جارٍ التحميل…
catalog-held = على هذه العقدة
catalog-pinned = محفوظة

## bundle
bundle-files = الملفات
bundle-file_count = الملفات: { $n }
bundle-size = الحجم
bundle-publisher = الناشر
bundle-name = الاسم
bundle-tags = الوسوم
bundle-licence = الترخيص
bundle-created = تاريخ النشر
bundle-version = الإصدار
bundle-id = معرّف الحزمة
bundle-other_langs = متوفرة أيضًا باللغات
bundle-fetch = جلب
bundle-fetch_pin = جلب مع الاحتفاظ بها
bundle-pin = الاحتفاظ بها (تثبيت)
bundle-unpin = إيقاف الاحتفاظ بها (إلغاء التثبيت)
bundle-pinned = محفوظة على هذه العقدة
bundle-not_pinned = غير محفوظة: قد تُحذف عندما تقلّ المساحة
bundle-held = على هذه العقدة
bundle-not_local = ليست على هذه العقدة بعد. اجلبها لرؤية ملفاتها.
bundle-retracted = سحب الناشر هذه الحزمة.
bundle-superseded = يوجد إصدار أحدث.
bundle-download = تنزيل
bundle-not_found = هذه الحزمة غير موجودة هنا.
bundle-back = العودة إلى الفهرس

## progress
progress-fetching = جارٍ الجلب: { $done } من { $total }
progress-publishing = جارٍ النشر: { $done } من { $total }
progress-uploading = جارٍ رفع { $name }
progress-done = تم.
progress-failed = تعذّر ذلك: { $error }

## publish
publish-intro = شارك مجلدًا أو بعض الملفات. تُوقَّع بمفتاح الناشر الخاص بك وتُتاح لنظرائك.
publish-source = ما تريد نشره
publish-folder = مجلد على هذا الحاسوب
publish-folder_hint = المسار الكامل، مثلًا /home/me/meeting-guide
publish-upload = أو ملفات من هذا المتصفح
publish-upload_folder = أو مجلد كامل من هذا المتصفح
publish-name = الاسم
publish-name_hint = اسم قصير يبقى كما هو في الإصدارات الجديدة، مثلًا meeting-guide
publish-texts = العناوين والأوصاف
publish-lang = رمز اللغة
publish-title = العنوان
publish-description = الوصف
publish-add_lang = إضافة لغة أخرى
publish-tags = الوسوم، مفصولة بفواصل
publish-licence = الترخيص
publish-passphrase = عبارة مرور مفتاح الناشر، إن كانت له عبارة مرور
publish-submit = نشر
publish-done = تم النشر.
publish-open = افتحها
publish-need_source = حدّد مجلدًا أو اختر بعض الملفات.
publish-need_title = أدخل عنوانًا واحدًا على الأقل.
publish-no_key = لا يوجد مفتاح ناشر على هذه العقدة بعد. شغّل `weft init` مرة واحدة لإنشائه.

## rules
rules-intro = تابِع ناشرًا أو وسمًا أو لغة للاحتفاظ على هذه العقدة بكل ما يُنشر ضمنه. احظر ناشرًا كي لا تُعرض حزمه أبدًا ولا يُحتفظ بها ولا تُمرَّر.
rules-following = ما تتابعه
rules-blocked = المحظور
rules-kind = النوع
rules-value = القيمة
rules-publisher = ناشر
rules-tag = وسم
rules-lang = لغة
rules-follow = متابعة
rules-block = حظر
rules-remove = إزالة
rules-none = لا شيء.

## network
network-peers = النظراء
network-peer = النظير
network-addresses = العناوين
network-transport = الاتصال
network-score = التقييم
network-none = غير متصل بأي نظير بعد.
network-checks = الفحوصات
network-suggestion = ما يجب فعله
network-connect = الاتصال بنظير
network-connect_hint = عنوان نظير، /ip4/…/tcp/…/p2p/…
network-connect_button = اتصال

## storage
storage-intro = ما تحتفظ به هذه العقدة على القرص.
storage-used = المستخدَم
storage-pinned = محفوظ (مثبّت)
storage-cached = في الذاكرة المؤقتة، قابل للحذف
storage-quota = الحصة
storage-no_quota = بلا حصة
storage-disk = على القرص
storage-of_quota = { $used } من { $max }
storage-pins = الحزم المحفوظة
storage-none = لا شيء محفوظ بعد.
storage-warnings = تحذيرات

## status
status-peers = النظراء: { $n }
status-catalog = الفهرس: { $n }

## login
login-needed = لاستخدام هذه الصفحة، افتح الرابط الذي يطبعه `weft ui` في الطرفية.

## error
error-generic = حدث خطأ ما: { $error }

## gateway
gateway-intro = أدلة وتدريبات ونماذج ووسائط يتشاركها المنظِّمون. يُتحقَّق من كل ملف مقابل توقيع ناشره قبل إرساله إليك.
gateway-page = الصفحة { $n }
gateway-prev = السابق
gateway-next = التالي
gateway-not_here = هذه الحزمة ليست على هذا الخادم.
gateway-not_found = لا يوجد شيء في هذا العنوان.
gateway-files_of = ملفات هذه الحزمة
gateway-footer = تقدّمه عقدة weft. للقراءة فقط.

## filter
filter-trusted_only = الناشرون الذين أثق بهم فقط

## catalog
catalog-contested = متنازع عليها: يدّعيها ناشران

## tier
tier-trusted = موثوق
tier-vouched = مُزكّى
tier-seen = غير موثوق بعد
tier-blocked = محظور

## bundle
bundle-contested = ناشر آخر يدّعي هذه الحزمة أيضًا. أحدهما لا يقول الحقيقة؛ جلب الحزمة يتحقق من توقيعها ولا يُبقي إلا الادعاء الصحيح.

## publisher
publisher-own_claim = ادعاؤه الخاص
publisher-same_name = مفتاح آخر يدّعي هذا الاسم
publisher-fingerprint = البصمة

## bundle
bundle-revoked = موقّعة بجهاز ألغى ناشرها صلاحيته؛ محفوظة فقط لأنك ثبّتّها.

## nav
nav-groups = المجموعات

## group
group-private_badge = خاصة: { $group }
group-private_note = خاصة. لا يقرؤها إلا أعضاء هذه المجموعة:

## publish
publish-audience = من يمكنه قراءتها
publish-share_with = المشاركة مع
publish-everyone = الجميع (عامة)
publish-group_only = المجموعة { $group } فقط
publish-audience_hint = في حالة المجموعة، تُشفَّر العناوين وأسماء الملفات والملفات؛ وتنقلها العقد الأخرى دون أن تتمكن من قراءتها.

## rules
rules-group = مجموعة (لنقلها، حتى دون قراءتها)

## groups
groups-intro = تشارك المجموعة حزمًا لا يقرؤها إلا أعضاؤها. يمكن للمحاور والعقد الأخرى تخزينها وتمريرها، لكنها لا ترى إلا حجمها ووقتها.
groups-none = لا تعرف هذه العقدة أي مجموعة بعد.
groups-new = إنشاء مجموعة
groups-name = اسم المجموعة
groups-create = إنشاء
groups-unreadable = مجموعة لا تستطيع هذه العقدة قراءتها
groups-member_count = الأعضاء: { $n }
groups-bundle_count = الحزم: { $n }
groups-you_admin = أنت مشرف
groups-you_member = أنت عضو
groups-you_outside = لست عضوًا: هذه العقدة تنقل حزم المجموعة فقط.
groups-back = العودة إلى المجموعات
groups-id = معرّف المجموعة
groups-epoch = جيل المفتاح
groups-readable = يمكن لهذه العقدة قراءتها
groups-yes = نعم
groups-no = لا
groups-members = الأعضاء
groups-members_hidden = لا يعرف الأعضاءَ إلا الأعضاءُ أنفسهم.
groups-admin = مشرف
groups-remove = إزالة
groups-remove_who = إزالة { $who } من المجموعة
groups-add_member = إضافة عضو
groups-add_hint = أدخل الاسم الذي أعطيته لناشر، أو معرّفه. إزالة أحد لاحقًا تبدأ مفتاحًا جديدًا: يحتفظ بما جلبه سابقًا ولا يستطيع قراءة أي شيء يُشارَك بعد ذلك.
groups-member = الناشر (الاسم الذي أعطيته له، أو معرّفه)
groups-history = السماح له أيضًا بقراءة ما شُورك سابقًا
groups-make_admin = تعيينه مشرفًا
groups-add = إضافة
groups-changed = تم تغيير المجموعة؛ وستعلم عُقد أعضائها بذلك عند اتصالها.
groups-bundles = ما شُورك في هذه المجموعة
groups-publish_here = النشر في هذه المجموعة
groups-no_bundles = لم يُشارَك بعد في هذه المجموعة أي شيء تستطيع هذه العقدة قراءته.
groups-you = أنت
groups-rekey = بدء مفتاح جديد
groups-rekey_hint = الأعضاء أنفسهم؛ ولا تستلمه إلا أجهزتهم التي لم تُلغَ صلاحيتها.
groups-rekey_due = أُلغيت صلاحية جهاز أحد الأعضاء بعد بدء المفتاح الحالي، لذا قد يكون المفتاح على جهاز مصادَر. ينبغي لمشرف أن يبدأ مفتاحًا جديدًا.

## network
network-path = المسار
network-direct = مباشر
network-relayed = عبر مُرحِّل
network-also = أيضًا: { $list }
network-relayed_bytes = عبر المُرحِّلات منذ بدء تشغيل العقدة: { $bytes } (حركة هذه العقدة نفسها، في الاتجاهين). الاتصال المباشر يخفف العبء عن المُرحِّل.

## preview
preview-title = معاينة
preview-truncated = تعرض المعاينة البداية فقط، نزّل الملف لقراءته كاملًا.
preview-pdf_page = الصفحة الأولى من { $name }

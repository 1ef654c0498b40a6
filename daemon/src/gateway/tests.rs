//! Pages, ranges and content types.

use super::*;

#[test]
fn ranges_follow_rfc_9110() {
    assert_eq!(parse_range(None, 100), Ok(None));
    assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
    assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
    assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
    assert_eq!(parse_range(Some("bytes=-500"), 100), Ok(Some((0, 99))));
    assert_eq!(parse_range(Some("bytes=50-5000"), 100), Ok(Some((50, 99))));
    assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
    assert_eq!(parse_range(Some("bytes=9-3"), 100), Err(()));
    assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
    assert_eq!(parse_range(Some("bytes=x-"), 100), Err(()));
    assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
    assert_eq!(parse_range(Some("pages=1-2"), 100), Ok(None));
    assert_eq!(
        parse_range(Some("bytes=99999999999999999999999-"), 100),
        Err(())
    );
}

#[test]
fn active_types_are_attachments_and_text_is_escaped() {
    assert_eq!(
        content_type("a/index.html"),
        ("text/html; charset=utf-8", false)
    );
    assert!(!content_type("x.SVG").1);
    assert!(!content_type("noext").1);
    assert!(content_type("photo.JPG").1);
    assert!(content_type("notes.md").1);
    assert_eq!(
        esc("<a href=\"x\">'&'</a>"),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
    assert_eq!(pct("a b/ü?.txt", true), "a%20b/%C3%BC%3F.txt");
    assert_eq!(query_string(&[("q", "a&b"), ("tag", "")]), "?q=a%26b");
}

#[test]
fn the_reader_gets_their_own_language_first() {
    let want = reader_langs(None, Some("pt-BR,pt;q=0.9,en;q=0.5"), "en");
    let have = ["en", "es", "pt"];
    assert_eq!(best_lang(have.iter().copied(), &want), 2);
    let want = reader_langs(Some("es"), Some("pt"), "en");
    assert_eq!(best_lang(have.iter().copied(), &want), 1);
    let want = reader_langs(None, Some("de"), "fr");
    assert_eq!(best_lang(["es", "en"].iter().copied(), &want), 0);
}

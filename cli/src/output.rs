//! Printing shared by the commands: text for a person or JSON for a program
//! (`simple`, `print_lines`), and small formatters (`plural`, `or_none`,
//! `title_of`).

use weft_protocol::LangTitle;

use crate::context::{Answer, Ctx, Res};

/// `1 file`, `2 files`.
pub(crate) fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The title in `lang` (or a more specific tag of it), else the first one.
pub(crate) fn title_of(titles: &[LangTitle], lang: Option<&str>) -> String {
    let wanted = lang.map(str::to_ascii_lowercase);
    let in_lang = titles.iter().find(|t| {
        let l = t.lang.to_ascii_lowercase();
        wanted
            .as_ref()
            .is_some_and(|w| l == *w || l.starts_with(&format!("{w}-")))
    });
    in_lang
        .or(titles.first())
        .map(|t| t.title.clone())
        .unwrap_or_default()
}

/// Prints the daemon's JSON as it came with --json, else the answer as
/// `text` prints it.
pub(crate) fn simple<T>(ctx: &Ctx, answer: Answer<T>, text: impl FnOnce(&T)) -> Res {
    if ctx.json {
        ctx.print_json(&answer.raw)
    } else {
        text(&answer.data);
        Ok(())
    }
}

/// Prints one line per item, or `empty` when there are none.
pub(crate) fn print_lines<I>(items: &[I], empty: &str, line: impl Fn(&I) -> String) {
    if items.is_empty() {
        println!("{empty}");
    }
    for item in items {
        println!("{}", line(item));
    }
}

/// The items joined with commas, or `none`.
pub(crate) fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

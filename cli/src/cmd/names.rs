//! `weft name`, `weft unname`, `weft names` (petnames) and `weft profile`
//! (this publisher's profile, or another's).

use serde_json::json;
use weft_protocol::api::{NamedPublisher, NamesResponse, ProfileResponse, StatusResponse};

use crate::cmd::search::urlencode;
use crate::context::{other, Answer, Ctx, Res};
use crate::output::simple;

/// `weft name PUBLISHER NAME`.
pub(crate) fn name(ctx: &Ctx, publisher: &str, name: &str) -> Res {
    let v: Answer<NamedPublisher> = ctx.post(
        "/v1/name",
        Some(json!({"publisher": publisher, "name": name})),
    )?;
    simple(ctx, v, |v| {
        println!("{} is now {}", v.publisher, v.name.display());
    })
}

/// `weft unname PUBLISHER`.
pub(crate) fn unname(ctx: &Ctx, publisher: &str) -> Res {
    let v: Answer<NamedPublisher> =
        ctx.post("/v1/unname", Some(json!({"publisher": publisher})))?;
    simple(ctx, v, |v| {
        println!(
            "{} has no name of yours now: {}",
            v.publisher,
            v.name.display()
        );
    })
}

/// `weft names`.
pub(crate) fn names(ctx: &Ctx) -> Res {
    let v: Answer<NamesResponse> = ctx.get("/v1/names")?;
    simple(ctx, v, |v| {
        if v.names.is_empty() {
            println!("No names yet. Give one with `weft name PUBLISHER NAME`.");
        }
        for n in &v.names {
            let theirs = n
                .name
                .profile_name
                .as_deref()
                .map(|p| format!("  (calls itself ~{p})"))
                .unwrap_or_default();
            println!(
                "{:<24} {}  {}{theirs}",
                n.name.petname.as_deref().unwrap_or(""),
                n.name.fingerprint,
                n.publisher
            );
        }
    })
}

/// `weft profile set`.
pub(crate) fn profile_set(
    ctx: &Ctx,
    name: String,
    about: String,
    lang: Option<String>,
    links: Vec<String>,
    contact: Option<String>,
) -> Res {
    let mut body = json!({"name": name, "about": about, "lang": lang, "contact": contact});
    if !links.is_empty() {
        body["links"] = json!(links);
    }
    if let Some(p) = ctx.passphrase_for_signing()? {
        body["passphrase"] = json!(p);
    }
    let v: Answer<ProfileResponse> = ctx.post("/v1/profile", Some(body))?;
    simple(ctx, v, |v| {
        println!("Signed and sent your profile: {}", v.name.display());
        warn_same_name(v);
    })
}

fn warn_same_name(v: &ProfileResponse) {
    for other in &v.same_name_as {
        println!("WARNING: {other} claims a name that reads the same.");
    }
}

/// `weft profile show [PUBLISHER]`.
pub(crate) fn profile_show(ctx: &Ctx, publisher: Option<String>) -> Res {
    let publisher = match publisher {
        Some(p) => p,
        None => ctx
            .get::<StatusResponse>("/v1/status")?
            .publisher
            .ok_or_else(|| other("this node has no publisher yet; `weft init` makes one"))?
            .to_string(),
    };
    let v: Answer<ProfileResponse> = ctx.get(&format!("/v1/profile/{}", urlencode(&publisher)))?;
    simple(ctx, v, |v| {
        println!("{}", v.name.display());
        println!("  {}", v.publisher);
        match &v.profile {
            None => println!("  no profile known"),
            Some(p) => {
                for t in &p.texts {
                    println!("  [{}] {} (its own claim)", t.lang, t.name);
                    if !t.about.is_empty() {
                        println!("       {}", t.about);
                    }
                }
                for l in &p.links {
                    println!("  link: {l}");
                }
                if !p.contact.is_empty() {
                    println!("  contact: {}", p.contact);
                }
            }
        }
        warn_same_name(v);
    })
}

//! `weft ui`: a one-time login link to the web UI, opened in a browser if
//! asked.

use weft_protocol::api::LoginLinkResponse;

use crate::context::{other, Answer, Ctx, Res};
use crate::files::write_private_file;

pub(crate) fn ui(ctx: &Ctx, open: bool) -> Res {
    let v: Answer<LoginLinkResponse> = ctx.post("/v1/ui/login", None)?;
    let url = &v.data.url;
    if ctx.json {
        ctx.print_json(&v.raw)?;
    } else {
        println!("{url}");
        eprintln!(
            "Open this link in a browser on this machine; it logs you in once, within {} seconds.",
            v.data.expires_in
        );
    }
    if open {
        // The link goes through a private file, not the browser's
        // command line, which other users of this machine can read
        // in /proc while the code still works.
        let page = ctx.dir.join("ui-open.html");
        let html = format!(
            "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>weft</title><a href=\"{url}\">weft</a>\n"
        );
        write_private_file(&page, html.as_bytes())
            .map_err(|e| other(format!("cannot write {}: {e}", page.display())))?;
        std::process::Command::new("xdg-open")
            .arg(&page)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| {
                other(format!(
                    "cannot start xdg-open to open the browser ({e}); open the link by hand"
                ))
            })?;
    }
    Ok(())
}

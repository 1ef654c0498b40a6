//! The commands. `run` hands each to its handler; each module holds one
//! group of commands and the printers only they use.

mod archive;
mod docs;
mod fetch;
mod groups;
mod identity;
mod names;
mod network;
mod publish;
mod rules;
pub(crate) mod search;
mod status;
mod store;
mod ui;

use crate::args::{Cli, Command, DeviceCmd, GroupCmd, IdentityCmd, ProfileCmd};
use crate::context::{default_data_dir, Ctx, Res};

/// Runs one command line.
pub(crate) fn run(cli: Cli) -> Res {
    // These two need no data dir.
    match &cli.command {
        Command::Completions { shell } => return docs::completions(*shell),
        Command::Manpages { dir } => return docs::manpages(dir),
        _ => {}
    }
    let ctx = Ctx {
        dir: cli.data_dir.unwrap_or_else(default_data_dir),
        json: cli.json,
        passphrase_fd: cli.passphrase_fd,
    };
    match cli.command {
        Command::Init {
            passphrase,
            no_root,
            device_name,
        } => identity::init(&ctx, passphrase, no_root, device_name),
        Command::Identity { action } => match action {
            None => identity::show(&ctx),
            Some(IdentityCmd::Rotate {
                from_seq,
                keep_before,
            }) => identity::rotate(&ctx, from_seq, keep_before),
            Some(IdentityCmd::RemoveRoot) => identity::remove_root(&ctx),
            Some(IdentityCmd::Upgrade { device_name }) => identity::upgrade(&ctx, device_name),
        },
        Command::Name { publisher, name } => names::name(&ctx, &publisher, &name),
        Command::Unname { publisher } => names::unname(&ctx, &publisher),
        Command::Names => names::names(&ctx),
        Command::Group { action } => match action {
            GroupCmd::Create { name } => groups::create(&ctx, &name),
            GroupCmd::Add {
                group,
                publisher,
                history,
                admin,
            } => groups::add(&ctx, &group, &publisher, history, admin),
            GroupCmd::Remove { group, publisher } => groups::remove(&ctx, &group, &publisher),
            GroupCmd::Rekey { group } => groups::rekey(&ctx, &group),
            GroupCmd::List => groups::list(&ctx),
            GroupCmd::Show { group } => groups::show(&ctx, &group),
        },
        Command::Profile { action } => match action {
            ProfileCmd::Set {
                name,
                about,
                lang,
                link,
                contact,
            } => names::profile_set(&ctx, name, about, lang, link, contact),
            ProfileCmd::Show { publisher } => names::profile_show(&ctx, publisher),
        },
        Command::Device { action } => match action {
            DeviceCmd::Add {
                identity,
                name,
                paper,
                passphrase,
            } => identity::device_add(&ctx, &identity, name, paper, passphrase),
            DeviceCmd::Approve {
                device,
                name,
                paper,
            } => identity::device_approve(&ctx, &device, &name, paper),
            DeviceCmd::Revoke {
                device,
                keep_before,
                keep,
                undo_retractions,
                paper,
            } => identity::device_revoke(&ctx, &device, keep_before, keep, undo_retractions, paper),
        },
        Command::Publish {
            path,
            name,
            title,
            description,
            lang,
            tag,
            licence,
            seq,
            group,
        } => publish::publish(
            &ctx,
            &path,
            publish::Describe {
                name,
                titles: title,
                descriptions: description,
                lang,
                tags: tag,
                licence,
                seq,
                group,
            },
        ),
        Command::Search {
            text,
            lang,
            tag,
            publisher,
            limit,
            all_versions,
            trusted_only,
            group,
        } => search::search(
            &ctx,
            search::Filters {
                text,
                lang,
                tag,
                publisher,
                limit,
                all_versions,
                trusted_only,
                group,
            },
        ),
        Command::Why { publisher } => search::why(&ctx, &publisher),
        Command::Show { id } => search::show(&ctx, &id),
        Command::Get { id, out } => fetch::get(&ctx, &id, out),
        Command::Pin { id } => fetch::pin(&ctx, &id),
        Command::Follow {
            publisher: None,
            tag: None,
            lang: None,
            vouched_by: None,
            group: None,
        }
        | Command::Rules => rules::list(&ctx),
        Command::Follow {
            publisher,
            tag,
            lang,
            vouched_by,
            group,
        } => rules::follow(
            &ctx,
            rules::Target {
                publisher,
                tag,
                lang,
                vouched_by,
                group,
            },
        ),
        Command::Unfollow {
            publisher,
            tag,
            lang,
            vouched_by,
            group,
        } => rules::unfollow(
            &ctx,
            rules::Target {
                publisher,
                tag,
                lang,
                vouched_by,
                group,
            },
        ),
        Command::Vouch { publisher, note } => rules::vouch(&ctx, &publisher, note, true),
        Command::Unvouch { publisher } => rules::vouch(&ctx, &publisher, None, false),
        Command::Block { publisher } => rules::block(&ctx, publisher),
        Command::Unblock { publisher } => rules::unblock(&ctx, publisher),
        Command::Retract { id } => publish::retract(&ctx, &id),
        Command::Gc => store::gc(&ctx),
        Command::Check => store::check(&ctx),
        Command::Export { bundles, out, dir } => archive::export(&ctx, &bundles, out, dir),
        Command::Import { path } => archive::import(&ctx, path),
        Command::Unpin { id } => fetch::unpin(&ctx, &id),
        Command::Pins => fetch::pins(&ctx),
        Command::Peers => network::peers(&ctx),
        Command::Doctor => network::doctor(&ctx),
        Command::Connect { multiaddr } => network::connect(&ctx, &multiaddr),
        Command::Providers { id } => network::providers(&ctx, &id),
        Command::Invite => network::invite(&ctx),
        Command::Join { invite, name } => network::join(&ctx, &invite, name),
        Command::Completions { .. } | Command::Manpages { .. } => Ok(()),
        Command::Ui { open } => ui::ui(&ctx, open),
        Command::Status => status::status(&ctx),
    }
}

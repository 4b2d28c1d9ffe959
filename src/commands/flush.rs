//! `flush`: re-sends the reports saved in the outbox to the endpoint configured now.

use std::path::Path;

use super::{Outcome, Trouble, ui_for};
use crate::cli::FlushArgs;
use crate::delivery::{self, Delivery, FlushPlan, FlushStats};
use crate::env::Env;
use crate::outbox;
use crate::settings::{self, DeliverySettings};
use crate::ui::Ui;

/// `flush`: saved reports go only to the endpoint configured now. A file names its URL, and a
/// file planted in a shared outbox must not get our token sent to its host.
pub fn flush(args: FlushArgs, env: &Env) -> Outcome {
    let mut errors = Vec::new();
    let d = settings::delivery(args.conn, env, &mut errors);
    let ui = ui_for(&d, env);
    let outcome = Outcome::new(&d);
    let Some(dir) = d.outbox.clone().or_else(|| outbox::default_dir(env)) else {
        ui.error("no outbox: set ALLSTACKS_OUTBOX (or --outbox)");
        return outcome.with(Trouble::Invalid);
    };
    // The one reader of the outbox checks that it is ours and private.
    let found = outbox::pending(&dir).unwrap_or_else(|e| {
        errors.push(format!("the outbox is not trusted: {e}"));
        outbox::Pending::default()
    });
    let conn = delivery::check_connection(&d);
    if d.dry_run {
        if refuse(&ui, &errors) {
            return outcome.with(Trouble::Invalid);
        }
        dry_run(&dir, &found, conn.url.as_deref(), &ui, args.adopt);
        return outcome;
    }
    if errors.is_empty() && found.files.is_empty() && found.foreign.is_empty() {
        ui.info(&format!("the outbox {} is empty", dir.display()));
        print_stats(&d, &dir, &FlushStats::default());
        return outcome;
    }
    for e in conn.invalid.iter().chain(&conn.missing_endpoint) {
        errors.push(format!(
            "{e} (saved reports are sent only to the endpoint configured now)"
        ));
    }
    if conn.missing_token {
        errors.push("token is required to flush: set ALLSTACKS_TOKEN (or --token-file)".into());
    }
    let (Some(url), Some(token), false) = (conn.url, d.token.as_deref(), refuse(&ui, &errors))
    else {
        return outcome.with(Trouble::Invalid);
    };
    let delivery = match Delivery::new(&d, env, token, &url, Some(dir.clone())) {
        Ok(delivery) => delivery,
        Err(f) => {
            ui.error(f.message());
            return outcome.with(Trouble::Invalid);
        }
    };
    let stats = match send_all(&dir, &delivery, &ui, args.adopt) {
        Ok(stats) => stats,
        Err(e) => {
            ui.error(&format!("the outbox is not trusted: {e}"));
            return outcome.with(Trouble::Invalid);
        }
    };
    print_stats(&d, &dir, &stats);
    if stats.kept > 0 || stats.rejected > 0 || stats.stuck > 0 {
        return outcome.with(Trouble::Delivery);
    }
    outcome
}

/// Prints `errors`; whether there were any.
fn refuse(ui: &Ui, errors: &[String]) -> bool {
    for e in errors {
        ui.error(e);
    }
    !errors.is_empty()
}

fn send_all(dir: &Path, delivery: &Delivery, ui: &Ui, adopt: bool) -> Result<FlushStats, String> {
    let plan = FlushPlan {
        max_attempts: None,
        deadline: None,
        url: delivery.url(),
        warn_elsewhere: true,
        adopt,
    };
    let stats = delivery::flush_saved(dir, delivery.sender(), ui, &plan)?;
    ui.info(&format!(
        "flushed {}: {} delivered, {} rejected (moved to {}), {} kept, {} stuck",
        dir.display(),
        stats.delivered,
        stats.rejected,
        dir.join("rejected").display(),
        stats.kept,
        stats.stuck
    ));
    Ok(stats)
}

/// `flush --dry-run`: lists every saved report (and whether it would be sent to the endpoint
/// configured now), prints their payloads as a JSON array, sends nothing.
fn dry_run(dir: &Path, found: &outbox::Pending, url: Option<&str>, ui: &Ui, adopt: bool) {
    delivery::warn_foreign(found, ui);
    let mut list = Vec::new();
    for path in &found.files {
        match outbox::read(path) {
            Ok(saved) => {
                // A file saved by an older version may name a URL with credentials.
                let shown = crate::client::redact_userinfo(&saved.url);
                let target = match url {
                    Some(u) if u == saved.url => "the configured endpoint".to_string(),
                    Some(_) if adopt => format!("another endpoint ({shown}): sent with --adopt"),
                    Some(_) => format!("another endpoint ({shown}): not sent"),
                    None => shown,
                };
                let job_id = saved.payload.get("job_id").and_then(|j| j.as_str());
                ui.plain(&format!(
                    "{}  job {}  → {target}  (saved {}, last error: {})",
                    path.display(),
                    job_id.unwrap_or("?"),
                    crate::timefmt::format_rfc3339(saved.saved_at),
                    saved.last_error
                ));
                list.push(saved.payload);
            }
            Err(e) => ui.warn(&format!("{} is {e}", path.display())),
        }
    }
    crate::ui::print_line(&serde_json::to_string_pretty(&list).unwrap_or_default());
    ui.info(&format!(
        "{} report(s) in {}; nothing sent (dry run)",
        found.files.len(),
        dir.display()
    ));
}

/// `flush --output json`: one line for scripts.
fn print_stats(d: &DeliverySettings, dir: &Path, stats: &FlushStats) {
    if d.output_json {
        let line = serde_json::json!({
            "outbox": dir.display().to_string(),
            "delivered": stats.delivered,
            "rejected": stats.rejected,
            "kept": stats.kept,
            "stuck": stats.stuck,
            "other_endpoint": stats.elsewhere,
            "not_ours": stats.foreign,
        });
        crate::ui::print_line(&line.to_string());
    }
}

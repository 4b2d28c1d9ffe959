//! `serve`: the webhook relay (SPEC `spec/relay.md`). This reads and checks every setting,
//! refusing to start (exit 2) with all the problems at once, then hands over to `relay`. With
//! `--explain FILE`, the same settings and routes take one webhook body, and what the relay
//! would do with it is printed (nothing is listened to, queued or sent).

use std::io::Read;
use std::path::Path;

use crate::cli::{Sender, ServeArgs};
use crate::delivery::{self, Delivery};
use crate::env::Env;
use crate::relay::catch_up::{self, CatchUp};
use crate::relay::config::{self as relay_config, Flags};
use crate::relay::explain::{self, Explained, Outcome};
use crate::relay::{self, Config, Routes, Source, Taken};
use crate::settings::{self, DeliverySettings, JobSettings};
use crate::ui::Ui;

/// Runs the relay (or `--explain`); the exit code (2: it cannot start with these settings).
pub fn serve(mut args: ServeArgs, env: &Env) -> i32 {
    if let Some(file) = args.explain.take() {
        return explain_body(args, &file, env);
    }
    let mut errors = Vec::new();
    let (d, config, job) = read_settings(&mut args, false, env, &mut errors);
    let ui = ui_for(&d, &config);
    let conn = delivery::check_connection(&d);
    errors.extend(conn.invalid.iter().cloned());
    errors.extend(conn.missing());
    let (routes, hooks) = routes(&config, job, &mut errors).unzip();
    let catch_up = CatchUp::new(hooks.unwrap_or_default(), &config, &mut errors);
    if args.catch_up_once && catch_up.is_none() && errors.is_empty() {
        errors.push(
            "--catch-up-once reads the delivery logs of the [[catch_up]] hooks in --config, and \
             there are none"
                .into(),
        );
    }
    let (Some(url), Some(token), Some(routes), true) =
        (conn.url, d.token.as_deref(), routes, errors.is_empty())
    else {
        for e in &errors {
            ui.error(e);
        }
        ui.error("serve did not start: fix the settings above (see docs/relay.md)");
        return 2;
    };
    let delivery = match Delivery::new(&d, env, token, &url, None) {
        Ok(delivery) => delivery,
        Err(f) => {
            ui.error(f.message());
            return 2;
        }
    };
    match catch_up {
        Some(catch_up) if args.catch_up_once => {
            relay::catch_up_once(config, routes, &delivery, catch_up, ui)
        }
        catch_up => relay::run(config, routes, delivery, catch_up, ui),
    }
}

/// The delivery, relay and job settings of `serve` (`explaining`: no secret is required).
fn read_settings(
    args: &mut ServeArgs,
    explaining: bool,
    env: &Env,
    errors: &mut Vec<String>,
) -> (DeliverySettings, Config, JobSettings) {
    let conn = std::mem::take(&mut args.conn);
    let d = settings::delivery(conn.into_conn(false, None, args.outbox.take()), env, errors);
    let job = settings::record_job(std::mem::take(&mut args.job).into(), env, errors);
    let flags = Flags {
        listen: args.listen.take(),
        config: args.config.take(),
        log_format: args.log_format.take(),
        outbox: d.outbox.clone(),
        explaining,
    };
    let config = Config::read(flags, env, errors);
    (d, config, job)
}

/// The messages of `serve`: every secret and token it read masked.
fn ui_for(d: &DeliverySettings, config: &Config) -> Ui {
    let mut ui = Ui::new(d.verbosity, false);
    ui.set_json(config.log_json);
    for secret in config.secrets.all() {
        ui.add_secret(secret);
    }
    if let Some(t) = &d.token {
        ui.add_secret(t);
    }
    for api in [&config.gitlab_api, &config.github_api]
        .into_iter()
        .flatten()
    {
        ui.add_secret(&api.token);
    }
    ui
}

/// `serve --explain FILE`: 0 when the body would be queued or is ignored, 2 when it is invalid
/// (400, 422) or the settings are.
fn explain_body(mut args: ServeArgs, file: &Path, env: &Env) -> i32 {
    let mut errors = Vec::new();
    let (d, config, job) = read_settings(&mut args, true, env, &mut errors);
    let mut ui = ui_for(&d, &config);
    // A terminal's text, whatever the relay's log format.
    ui.set_json(false);
    let source = match args.source {
        Some(Sender::Github) | None => Source::GitHub,
        Some(Sender::Gitlab) => Source::GitLab,
        Some(Sender::Argocd) => Source::ArgoCd,
        Some(Sender::Flux) => Source::Flux,
    };
    if args.event.is_some() && matches!(source, Source::ArgoCd | Source::Flux) {
        errors.push(format!(
            "--event is the X-GitHub-Event or X-Gitlab-Event header; {} sends none",
            source.name()
        ));
    }
    let routes = routes(&config, job, &mut errors).map(|(routes, _)| routes);
    let body = read_body(file).map_err(|e| errors.push(e)).ok();
    let (Some(routes), Some(body), true) = (routes, body, errors.is_empty()) else {
        for e in &errors {
            ui.error(e);
        }
        ui.error("serve --explain: nothing was explained: fix the above (see docs/relay.md)");
        return 2;
    };
    let now = crate::timefmt::now_epoch();
    let event = args.event.as_deref();
    let explained = explain::explain(&config, routes, source, event, &body, now);
    print_explained(explained, &ui)
}

/// The body in `file` (`-`: stdin), read up to the relay's own limit.
fn read_body(file: &Path) -> Result<Vec<u8>, String> {
    let limit = relay_config::MAX_BODY as u64;
    let mut body = Vec::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut body)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit + 1).read_to_end(&mut body))
    };
    let shown = if file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        file.display().to_string()
    };
    match read {
        Err(e) => Err(format!("--explain: cannot read {shown}: {e}")),
        Ok(n) if n as u64 > limit => Err(format!(
            "--explain: {shown} is over 25 MiB: the relay answers 413 to such a body"
        )),
        Ok(_) => Ok(body),
    }
}

/// What the relay would do, on stderr (and the job's payload on stdout); the exit code.
fn print_explained(explained: Explained, ui: &Ui) -> i32 {
    let say = |text: &str| ui.result(&format!("allstacks-cd: explain: {text}"));
    say(&format!("read as {}", explained.read_as));
    for w in &explained.warnings {
        ui.warn(w);
    }
    for passed in &explained.passed {
        say(passed);
    }
    if let Some(route) = &explained.route {
        say(&format!("{route} takes it"));
    }
    match explained.outcome {
        Outcome::Queued { job, provenance } => {
            super::report::print_job(&job, &provenance, ui);
            say(&format!(
                "the relay would queue job {} for service {} under {}; nothing was queued or sent",
                job.job_id(),
                job.service_id(),
                explained.route.as_deref().unwrap_or("no route")
            ));
            0
        }
        Outcome::Ignored(why) => {
            say(&format!("ignored: {why}; nothing would be reported"));
            0
        }
        Outcome::Invalid(why) => {
            ui.error(&format!("explain: {why}"));
            2
        }
    }
}

/// The routes and the `[[catch_up]]` hooks: `--config`'s file, else one route with the job
/// settings and no hooks.
fn routes(
    config: &Config,
    job: JobSettings,
    errors: &mut Vec<String>,
) -> Option<(Routes, Vec<catch_up::Entry>)> {
    let parsed = match &config.config_file {
        None => Routes::single(job).map(|r| (r, Vec::new())),
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => {
                Routes::parse_file(path, &text, &job, Taken::of(&config.github, &config.gitlab))
            }
            Err(e) => Err(vec![format!(
                "cannot read the config {}: {e}",
                path.display()
            )]),
        },
    };
    parsed.map_err(|e| errors.extend(e)).ok()
}

//! `serve`: the webhook relay (SPEC `spec/relay.md`). This reads and checks every setting,
//! refusing to start (exit 2) with all the problems at once, then hands over to `relay`.

use crate::cli::ServeArgs;
use crate::delivery::{self, Delivery};
use crate::env::Env;
use crate::relay::catch_up::{self, CatchUp};
use crate::relay::{self, Config, Routes, Taken, config::Flags};
use crate::settings::{self, JobSettings};
use crate::ui::Ui;

/// Runs the relay; the exit code (2: it cannot start with these settings).
pub fn serve(args: ServeArgs, env: &Env) -> i32 {
    let mut errors = Vec::new();
    let d = settings::delivery(
        args.conn.into_conn(false, None, args.outbox),
        env,
        &mut errors,
    );
    let job = settings::record_job(args.job.into(), env, &mut errors);
    let flags = Flags {
        listen: args.listen,
        config: args.config,
        log_format: args.log_format,
        outbox: d.outbox.clone(),
    };
    let config = Config::read(flags, env, &mut errors);
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

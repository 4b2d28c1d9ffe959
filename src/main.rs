use std::path::PathBuf;

fn main() {
    let env = allstacks_cd::env::Env::from_process();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    std::process::exit(allstacks_cd::run(std::env::args_os(), &env, &cwd));
}
